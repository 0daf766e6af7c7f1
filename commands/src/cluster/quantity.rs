//! Kubernetes resource quantities (`250m`, `123456n`, `128Mi`, `1.5Gi`, `129e6`) as numbers.

/// The value of a quantity in base units (cores, bytes), or `None` if it is not a quantity.
pub fn parse(quantity: &str) -> Option<f64> {
    let q = quantity.trim();
    let split = q
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(split);
    // `e`/`E` is an exponent only when digits follow; otherwise it is the exa suffix `E`.
    let (number, suffix) = match number.rfind(['e', 'E']) {
        Some(i) if number[i + 1..].is_empty() => (&number[..i], &q[i..]),
        _ => (number, suffix),
    };
    let value: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        _ => return None,
    };
    value.is_finite().then_some(value * factor)
}

/// CPU in millicores, as `kubectl top` shows it (`12m`).
pub fn millicores(quantity: &str) -> Option<u64> {
    parse(quantity)
        .filter(|v| *v >= 0.0)
        .map(|v| (v * 1000.0).round() as u64)
}

/// Memory in bytes.
pub fn bytes(quantity: &str) -> Option<u64> {
    parse(quantity)
        .filter(|v| *v >= 0.0)
        .map(|v| v.round() as u64)
}

/// Bytes as `kubectl top` shows memory (`123Mi`).
pub fn mebibytes_text(bytes: u64) -> String {
    format!("{}Mi", bytes / (1024 * 1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_memory() {
        assert_eq!(millicores("250m"), Some(250));
        assert_eq!(millicores("1"), Some(1000));
        assert_eq!(millicores("0.5"), Some(500));
        assert_eq!(millicores("123456789n"), Some(123));
        assert_eq!(millicores("1500u"), Some(2));
        assert_eq!(bytes("128Mi"), Some(134_217_728));
        assert_eq!(bytes("12345Ki"), Some(12_641_280));
        assert_eq!(bytes("129e6"), Some(129_000_000));
        assert_eq!(bytes("1E"), Some(1_000_000_000_000_000_000));
        assert_eq!(bytes("2M"), Some(2_000_000));
        assert_eq!(mebibytes_text(134_217_728), "128Mi");
    }

    #[test]
    fn garbage_is_none() {
        for q in ["", "abc", "12Xi", "--1", "m"] {
            assert_eq!(parse(q), None, "{q}");
        }
        assert_eq!(millicores("-5m"), None);
    }
}
