//! The simulated MyStocks application (owned by the app half of the sim).
