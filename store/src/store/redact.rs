//! Showing database and Redis URLs without their credentials.

/// Query parameters that carry a secret in libpq-style and Redis URLs.
const SECRET_PARAMS: [&str; 3] = ["password", "sslpassword", "passwd"];

/// Returns `url` with the password (and secret query parameters) replaced by `***`, for errors and logs:
/// `postgres://u:SECRET@h/db` → `postgres://u:***@h/db`. Text that is not a URL is returned with anything
/// that looks like credentials (`user:pass@`) masked the same way; text without credentials is unchanged.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) if !parsed.cannot_be_a_base() => redact_parsed(parsed),
        _ => redact_text(url),
    }
}

fn redact_parsed(mut parsed: url::Url) -> String {
    if parsed.password().is_some() && parsed.set_password(Some("***")).is_err() {
        return redact_text(parsed.as_str());
    }
    // Redis takes `redis://SECRET@host` as its password (AUTH with one argument): a lone user name is the secret.
    let redis = matches!(parsed.scheme(), "redis" | "rediss");
    if redis
        && parsed.password().is_none()
        && !parsed.username().is_empty()
        && parsed.set_username("***").is_err()
    {
        return redact_text(parsed.as_str());
    }
    let has_secret_param = parsed.query_pairs().any(|(k, _)| is_secret_param(&k));
    if has_secret_param {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) {
                    "***".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

fn is_secret_param(key: &str) -> bool {
    SECRET_PARAMS.iter().any(|p| key.eq_ignore_ascii_case(p))
}

/// Fallback for strings the URL parser rejects: mask whatever sits between `user:` and the last `@` of the
/// authority.
fn redact_text(text: &str) -> String {
    let (scheme, rest) = match text.find("://") {
        Some(i) => text.split_at(i + 3),
        None => ("", text),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some(at) = authority.rfind('@') else {
        return text.to_string();
    };
    let userinfo = &authority[..at];
    let user = userinfo.split_once(':').map_or("", |(user, _)| user);
    format!("{scheme}{user}:***{}{tail}", &authority[at..])
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn password_in_authority_is_masked() {
        assert_eq!(
            redact_url("postgres://u:SECRET@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(
            redact_url("postgres://bot:p%40ss@db.example:5432/mystocks?sslmode=require"),
            "postgres://bot:***@db.example:5432/mystocks?sslmode=require"
        );
        assert_eq!(
            redact_url("redis://:hunter2@cache:6379/0"),
            "redis://:***@cache:6379/0"
        );
    }

    #[test]
    fn a_redis_token_in_the_user_name_is_masked() {
        assert_eq!(
            redact_url("redis://TOKEN@cache:6379/0"),
            "redis://***@cache:6379/0"
        );
        assert_eq!(
            redact_url("rediss://TOKEN@cache:6380"),
            "rediss://***@cache:6380"
        );
        assert_eq!(redact_url("redis://cache:6379/0"), "redis://cache:6379/0");
    }

    #[test]
    fn password_in_query_is_masked() {
        let shown = redact_url("postgres://h/db?user=u&password=SECRET&sslmode=disable");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(
            shown.contains("password=***") || shown.contains("password=%2A%2A%2A"),
            "{shown}"
        );
        assert!(shown.contains("sslmode=disable"), "{shown}");
    }

    #[test]
    fn urls_without_credentials_are_unchanged() {
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(
            redact_url("sqlite:///var/lib/bot/store.db"),
            "sqlite:///var/lib/bot/store.db"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1:5432/"),
            "postgres://postgres@127.0.0.1:5432/"
        );
    }

    #[test]
    fn unparseable_text_is_masked_too() {
        let shown = redact_url("postgres://u:SE CRET@h:notaport/db");
        assert!(!shown.contains("SE CRET"), "{shown}");
        assert!(shown.starts_with("postgres://u:***@h"), "{shown}");
    }
}
