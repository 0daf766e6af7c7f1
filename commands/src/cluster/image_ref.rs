//! Container image references for `deploy`: a bare tag (`v1.0.2`), a bare digest (`sha256:…`), or a full
//! reference `[registry[:port]/]name[:tag][@sha256:digest]`, validated and limited to an allowed repository.

use std::sync::LazyLock;

use regex::Regex;

use super::error::Refusal;

static COMPONENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$").expect("component regex")
});
static REGISTRY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d{1,5})?$")
        .expect("registry regex")
});
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").expect("tag regex"));
static DIGEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^sha256:[a-f0-9]{64}$").expect("digest regex"));

/// A parsed image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// `registry:5000/team/name` or `team/name`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn invalid(reference: &str, reason: &str) -> Refusal {
    Refusal::InvalidImage {
        reference: reference.to_string(),
        reason: reason.to_string(),
    }
}

/// Parses a full reference; a tag or a digest is required (no implicit `latest`).
pub fn parse(reference: &str) -> Result<ImageRef, Refusal> {
    let r = reference.trim();
    if r.is_empty() || r.len() > 255 {
        return Err(invalid(reference, "it must be 1 to 255 characters"));
    }
    let (name_tag, digest) = match r.split_once('@') {
        Some((n, d)) if DIGEST.is_match(d) => (n, Some(d.to_string())),
        Some(_) => {
            return Err(invalid(
                reference,
                "a digest must be `sha256:` and 64 lowercase hex digits",
            ));
        }
        None => (r, None),
    };
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (
            &name_tag[..last_slash + i],
            Some(name_tag[last_slash + i + 1..].to_string()),
        ),
        None => (name_tag, None),
    };
    if let Some(t) = &tag
        && !TAG.is_match(t)
    {
        return Err(invalid(
            reference,
            "a tag is letters, digits, `_`, `.` and `-` (at most 128)",
        ));
    }
    if tag.is_none() && digest.is_none() {
        return Err(invalid(
            reference,
            "give a tag (`:v1.2.3`) or a digest (`@sha256:…`)",
        ));
    }
    let mut parts: Vec<&str> = repository.split('/').collect();
    let has_registry = parts.len() > 1
        && (parts[0].contains(['.', ':']) || parts[0] == "localhost")
        && REGISTRY.is_match(parts[0]);
    if has_registry {
        parts.remove(0);
    }
    if parts.is_empty() || !parts.iter().all(|p| COMPONENT.is_match(p)) {
        return Err(invalid(
            reference,
            "the name must be lowercase letters, digits and separators (`team/name`)",
        ));
    }
    Ok(ImageRef {
        repository: repository.to_string(),
        tag,
        digest,
    })
}

/// The repository of an image string, without tag or digest (best effort for what already runs).
pub fn repository_of(image: &str) -> String {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    match without_digest[last_slash..].rfind(':') {
        Some(i) => without_digest[..last_slash + i].to_string(),
        None => without_digest.to_string(),
    }
}

/// Docker Hub's implicit prefixes removed, so `docker.io/mystocks/api` and `mystocks/api` compare equal.
fn canonical_repository(repository: &str) -> &str {
    [
        "docker.io/library/",
        "docker.io/",
        "index.docker.io/library/",
        "index.docker.io/",
    ]
    .into_iter()
    .find_map(|p| repository.strip_prefix(p))
    .unwrap_or(repository)
}

/// Resolves what someone typed against the image running now: a bare tag or digest means the running
/// repository; a full reference must be in `allowed_repository` (empty: any repository).
pub fn resolve(
    input: &str,
    current_image: &str,
    allowed_repository: &str,
) -> Result<String, Refusal> {
    let input = input.trim();
    let bare_digest = input.strip_prefix('@').unwrap_or(input);
    let full = if DIGEST.is_match(bare_digest) {
        format!("{}@{bare_digest}", repository_of(current_image))
    } else if !input.contains(['/', ':', '@']) {
        if !TAG.is_match(input) {
            return Err(invalid(
                input,
                "a tag is letters, digits, `_`, `.` and `-` (at most 128)",
            ));
        }
        format!("{}:{input}", repository_of(current_image))
    } else {
        input.to_string()
    };
    let image = parse(&full)?;
    let allowed = allowed_repository.trim();
    if !allowed.is_empty()
        && canonical_repository(&image.repository) != canonical_repository(allowed)
    {
        return Err(Refusal::ForeignRepository {
            reference: input.to_string(),
            allowed: allowed.to_string(),
        });
    }
    Ok(image.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST_HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_references() {
        let r = parse("registry.example.com:5000/mystocks/api:v1.2.3").expect("valid");
        assert_eq!(r.repository, "registry.example.com:5000/mystocks/api");
        assert_eq!(r.tag.as_deref(), Some("v1.2.3"));
        let d = parse(&format!("mystocks/api@sha256:{DIGEST_HEX}")).expect("valid");
        assert_eq!((d.tag, d.digest.is_some()), (None, true));
        assert_eq!(
            parse("localhost:5000/api:1").expect("valid").repository,
            "localhost:5000/api"
        );
    }

    #[test]
    fn rejects_malformed_references() {
        for bad in [
            "",
            "mystocks/api",
            "Mystocks/api:v1",
            "mystocks/api:",
            "mystocks//api:v1",
            "api:v 1",
            "mystocks/api@sha256:xyz",
            "mystocks/api:-v1",
            ":v1",
            "mystocks/api:v1;rm -rf /",
        ] {
            assert!(
                matches!(parse(bad), Err(Refusal::InvalidImage { .. })),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn bare_tags_and_digests_use_the_running_repository() {
        let now = "mystocks/api:v1.0.1";
        assert_eq!(
            resolve("v1.0.2", now, "mystocks/api"),
            Ok("mystocks/api:v1.0.2".to_string())
        );
        assert_eq!(
            resolve(&format!("sha256:{DIGEST_HEX}"), now, "mystocks/api"),
            Ok(format!("mystocks/api@sha256:{DIGEST_HEX}"))
        );
        assert_eq!(
            resolve("mystocks/api:v2", now, "mystocks/api"),
            Ok("mystocks/api:v2".to_string())
        );
        assert_eq!(
            resolve("docker.io/mystocks/api:v2", now, "mystocks/api"),
            Ok("docker.io/mystocks/api:v2".into())
        );
        assert!(matches!(
            resolve("v1 .0", now, "mystocks/api"),
            Err(Refusal::InvalidImage { .. })
        ));
    }

    #[test]
    fn foreign_repositories_are_refused_unless_unrestricted() {
        let now = "mystocks/api:v1.0.1";
        let refused = resolve("evil/api:v1", now, "mystocks/api");
        assert!(matches!(refused, Err(Refusal::ForeignRepository { .. })));
        assert_eq!(
            resolve("evil/api:v1", now, ""),
            Ok("evil/api:v1".to_string())
        );
        assert_eq!(repository_of("reg:5000/a/b:v1@sha256:x"), "reg:5000/a/b");
        assert_eq!(repository_of("a/b"), "a/b");
    }
}
