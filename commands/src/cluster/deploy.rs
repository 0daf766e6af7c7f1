//! `deploy` preview: one container's image before → after; the reference validated and, by default, limited to
//! the allowed repository; a bare tag means the running repository; dry-run checked.

use super::deployment;
use super::error::{ClusterError, Refusal};
use super::image_resolve;
use super::patches::{SendOptions, send};
use super::plan::{Binding, Change, Plan};
use super::target::Target;
use super::template;

/// Previews setting the target container's image to `image` (a tag, a digest or a full reference); full
/// references must be in `allowed_repository` (empty: any).
pub async fn plan_deploy(
    client: &kube::Client,
    target: &Target,
    image: &str,
    allowed_repository: &str,
) -> Result<Plan, ClusterError> {
    let dep = deployment::get(client, target).await?;
    let images = template::images(&deployment::template(&dep));
    let Some((container, from_image)) =
        images.iter().find(|(c, _)| *c == target.container).cloned()
    else {
        let available = images
            .iter()
            .map(|(c, _)| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Refusal::NoSuchContainer {
            deployment: target.deployment.clone(),
            container: target.container.clone(),
            available,
        }
        .into());
    };
    let to_image = image_resolve::resolve(image, &from_image, allowed_repository)?;
    if to_image == from_image {
        return Err(Refusal::AlreadyRunning {
            deployment: target.deployment.clone(),
            image: to_image,
        }
        .into());
    }
    let change = Change::Deploy {
        container,
        from_image,
        to_image,
    };
    send(
        client,
        target,
        &change,
        &dep,
        "preview (dry run)",
        &SendOptions::dry_run(),
    )
    .await?;
    Ok(Plan {
        target: target.clone(),
        binding: Binding::of(&dep),
        change,
    })
}
