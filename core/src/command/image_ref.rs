//! Container image references as `deploy` accepts them: a bare tag (`v1.0.3`, deployed from the configured
//! repository), `[registry[:port]/]path/name:tag`, or either with `@sha256:<64 hex>`.
//!
//! Follows the grammar of the distribution project's `reference` package, minus the implicit `latest`: a full
//! reference must name a tag or a digest, so what is deployed is always explicit.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest repository name (registry included), as in the distribution grammar.
const MAX_NAME_LEN: usize = 255;
/// Longest tag.
const MAX_TAG_LEN: usize = 128;

/// A parsed image reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageRef {
    /// `registry.example.com:5000/mystocks/api` or `mystocks/api`; `None` for a bare tag.
    pub registry_and_repo: Option<String>,
    pub tag: Option<String>,
    /// `sha256:<64 lower-case hex>`.
    pub digest: Option<String>,
}

/// Why a text is not an image reference (shown to the user).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadImageRef(pub String);

fn bad(reason: impl Into<String>) -> BadImageRef {
    BadImageRef(reason.into())
}

impl ImageRef {
    /// Only a tag, to be deployed from the configured repository.
    pub fn is_bare_tag(&self) -> bool {
        self.registry_and_repo.is_none()
    }

    /// The full reference, using `default_repo` for a bare tag (`mystocks/api:v1.0.3`).
    pub fn resolve(&self, default_repo: &str) -> String {
        let repo = self.registry_and_repo.as_deref().unwrap_or(default_repo);
        let mut out = repo.to_string();
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }

    /// Whether the image comes from `allowed_repo` (a bare tag always does: it is resolved against it).
    pub fn is_from(&self, allowed_repo: &str) -> bool {
        self.registry_and_repo
            .as_deref()
            .is_none_or(|repo| repo == allowed_repo)
    }
}

impl fmt::Display for ImageRef {
    /// As it was given (a bare tag stays bare).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.registry_and_repo, &self.tag) {
            (None, Some(tag)) => f.write_str(tag),
            _ => f.write_str(&self.resolve("")),
        }
    }
}

/// Whether `text` is a valid tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn is_bare_tag(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && text.len() <= MAX_TAG_LEN
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Parses an image reference or a bare tag; the error says what is wrong and what would be right.
pub fn parse_image_ref(text: &str) -> Result<ImageRef, BadImageRef> {
    if text.is_empty() {
        return Err(bad("it is empty"));
    }
    let (name_and_tag, digest) = match text.split_once('@') {
        Some((rest, digest)) => (rest, Some(check_digest(digest)?)),
        None => (text, None),
    };
    if !name_and_tag.contains(['/', ':']) && digest.is_none() {
        return if is_bare_tag(name_and_tag) {
            Ok(ImageRef {
                registry_and_repo: None,
                tag: Some(name_and_tag.to_string()),
                digest: None,
            })
        } else {
            Err(bad(
                "a tag has letters, digits, `_`, `.` and `-` (at most 128), like `v1.0.3`",
            ))
        };
    }
    // The tag's `:` is after the last `/`; an earlier `:` belongs to a registry port.
    let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
        Some(i) => (
            &name_and_tag[..last_slash + i],
            Some(&name_and_tag[last_slash + i + 1..]),
        ),
        None => (name_and_tag, None),
    };
    if let Some(tag) = tag.filter(|t| !is_bare_tag(t)) {
        return Err(bad(format!(
            "`{}` is not a valid tag (letters, digits, `_`, `.`, `-`)",
            short(tag)
        )));
    }
    if tag.is_none() && digest.is_none() {
        return Err(bad(format!(
            "name a tag or a digest, like `{}:v1.0.3`",
            short(name)
        )));
    }
    check_name(name)?;
    Ok(ImageRef {
        registry_and_repo: Some(name.to_string()),
        tag: tag.map(str::to_string),
        digest,
    })
}

fn short(text: &str) -> String {
    crate::grammar::shown(text)
}

fn check_digest(digest: &str) -> Result<String, BadImageRef> {
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| bad("a digest looks like `sha256:` and 64 hex digits"))?;
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(bad("a sha256 digest has exactly 64 lower-case hex digits"));
    }
    Ok(digest.to_string())
}

/// `[registry[:port]/]component(/component)*`.
fn check_name(name: &str) -> Result<(), BadImageRef> {
    if name.len() > MAX_NAME_LEN {
        return Err(bad(format!(
            "the repository name is longer than {MAX_NAME_LEN} characters"
        )));
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    let first = parts[0];
    let has_registry = parts.len() > 1 && (first.contains(['.', ':']) || first == "localhost");
    if has_registry {
        check_registry(first)?;
        parts.remove(0);
    }
    for part in parts {
        if !is_path_component(part) {
            return Err(bad(format!(
                "`{}` is not a valid repository path part (lower-case letters and digits, separated by `.`, `_`, `__` or `-`)",
                short(part)
            )));
        }
    }
    Ok(())
}

fn check_registry(registry: &str) -> Result<(), BadImageRef> {
    let (host, port) = match registry.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (registry, None),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    if host.split('.').all(label_ok) && port_ok {
        Ok(())
    } else {
        Err(bad(format!(
            "`{}` is not a valid registry host[:port]",
            short(registry)
        )))
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_path_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !alnum(first) || !alnum(last) {
        return false;
    }
    // Between alphanumerics: one `.`, one or two `_`, or any number of `-`.
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &part[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn full(repo: &str, tag: Option<&str>, digest: Option<&str>) -> ImageRef {
        ImageRef {
            registry_and_repo: Some(repo.to_string()),
            tag: tag.map(str::to_string),
            digest: digest.map(str::to_string),
        }
    }

    #[test]
    fn bare_tags() {
        let r = parse_image_ref("v1.0.3").expect("tag");
        assert!(r.is_bare_tag());
        assert_eq!(r.resolve("mystocks/api"), "mystocks/api:v1.0.3");
        assert!(r.is_from("anything"));
        assert_eq!(r.to_string(), "v1.0.3");
        assert!(is_bare_tag("_x-1.2"));
        assert!(!is_bare_tag(".x"));
        assert!(!is_bare_tag(&"a".repeat(129)));
    }

    #[test]
    fn full_references() {
        assert_eq!(
            parse_image_ref("mystocks/api:v1.0.1"),
            Ok(full("mystocks/api", Some("v1.0.1"), None))
        );
        assert_eq!(
            parse_image_ref("registry.example.com:5000/team/mystocks/api:v2"),
            Ok(full(
                "registry.example.com:5000/team/mystocks/api",
                Some("v2"),
                None
            ))
        );
        assert_eq!(
            parse_image_ref("localhost/api:1"),
            Ok(full("localhost/api", Some("1"), None))
        );
        assert_eq!(parse_image_ref("api:v1"), Ok(full("api", Some("v1"), None)));
        let with_digest = format!("mystocks/api@{DIGEST}");
        assert_eq!(
            parse_image_ref(&with_digest),
            Ok(full("mystocks/api", None, Some(DIGEST)))
        );
        let both = format!("mystocks/api:v1@{DIGEST}");
        assert_eq!(
            parse_image_ref(&both).map(|r| r.to_string()),
            Ok(both.clone())
        );
        assert!(parse_image_ref("my-org/my__api.x:1").is_ok());
    }

    #[test]
    fn allow_list_compares_the_repository() {
        let r = parse_image_ref("mystocks/api:v1").expect("ref");
        assert!(r.is_from("mystocks/api"));
        assert!(!r.is_from("evil/api"));
    }

    #[test]
    fn invalid_references_say_why() {
        let cases = [
            ("", "empty"),
            ("mystocks/api", "name a tag or a digest"),
            ("Mystocks/api:v1", "repository path part"),
            ("mystocks//api:v1", "repository path part"),
            ("mystocks/api:", "not a valid tag"),
            ("mystocks/api:v 1", "not a valid tag"),
            ("reg:port/api:v1", "registry"),
            ("mystocks/api@sha256:abc", "64 lower-case hex"),
            ("mystocks/api@md5:abc", "sha256:"),
            ("v1.0.3!", "a tag has"),
            ("mystocks/a--_b:v1", "repository path part"),
        ];
        for (text, expected) in cases {
            let err = parse_image_ref(text).expect_err(text);
            assert!(err.to_string().contains(expected), "{text}: {err}");
        }
        let upper = format!("api@{}", DIGEST.to_uppercase().replace("SHA256", "sha256"));
        assert!(parse_image_ref(&upper).is_err());
        assert!(parse_image_ref(&format!("{}/api:v1", "a".repeat(300))).is_err());
    }
}
