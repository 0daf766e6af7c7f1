//! Container image references for `deploy`: a bare tag (`v1.0.2`), a bare digest (`sha256:…`), or a full
//! reference `[registry[:port]/]name[:tag][@sha256:digest]`, validated and limited to an allowed repository.

use std::sync::LazyLock;

use regex::Regex;

use super::error::Refusal;
use crate::command::parse_image_ref;

static DIGEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^sha256:[a-f0-9]{64}$").expect("digest regex"));

fn invalid(reference: &str, reason: &str) -> Refusal {
    Refusal::InvalidImage {
        reference: reference.to_string(),
        reason: reason.to_string(),
    }
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
    let running = repository_of(current_image);
    let bare_digest = input.strip_prefix('@').unwrap_or(input);
    let full = if DIGEST.is_match(bare_digest) {
        format!("{running}@{bare_digest}")
    } else {
        // The one parser of image references, shared with the grammar.
        parse_image_ref(input)
            .map_err(|e| invalid(input, &e.0))?
            .resolve(&running)
    };
    let allowed = allowed_repository.trim();
    if !allowed.is_empty()
        && canonical_repository(&repository_of(&full)) != canonical_repository(allowed)
    {
        return Err(Refusal::ForeignRepository {
            reference: input.to_string(),
            allowed: allowed.to_string(),
        });
    }
    Ok(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST_HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn malformed_references_are_invalid() {
        let now = "mystocks/api:v1.0.1";
        for bad in [
            "mystocks/api",
            "Mystocks/api:v1",
            "mystocks//api:v1",
            "api:v 1",
            "mystocks/api@sha256:xyz",
        ] {
            assert!(
                matches!(resolve(bad, now, ""), Err(Refusal::InvalidImage { .. })),
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
