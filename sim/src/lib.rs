//! mystocks-sim — a simulated MyStocks cluster: a Kubernetes API server subset that the real kubectl drives,
//! controllers that make it behave like a cluster, and the MyStocks application's own endpoints.

pub mod app;
pub mod world;
