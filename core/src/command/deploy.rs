//! deploy — roll out another image of the API, through approval.  Grammar: `deploy IMAGE_OR_TAG`
//!
//! The reference's syntax is checked here; whether its repository is allowed needs config and is checked when
//! the request is made (`PolicyConfig::deploy_repository`, applied by the live image check).

use crate::command::Change;
use serde::{Deserialize, Serialize};

pub use super::image_ref::{BadImageRef, ImageRef, is_bare_tag, parse_image_ref};
use super::{Canonical, Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// How `help` shows `deploy`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "deploy",
    aliases: &[],
    summary: "Roll out another image (a tag of the configured repository, or a full reference); needs approval.",
    usage: "deploy IMAGE_OR_TAG",
    flags: &[],
    examples: &[
        "deploy v1.0.3",
        "deploy mystocks/api:v1.0.3",
        "deploy mystocks/api@sha256:<64 hex digits>",
    ],
    manual: Some("Maintenance Procedures — Deployment"),
    free_text: false,
    parse,
};

/// Deploy `image`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deploy {
    pub image: ImageRef,
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let given = args.required("image or tag (IMAGE_OR_TAG)")?;
    let image =
        parse_image_ref(&given).map_err(|e| args.bad_value("image reference", &given, e.0))?;
    args.finish()?;
    Ok(Command::Change(Change::Deploy(Deploy { image })))
}

impl Deploy {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        out.arg(&self.image.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::{Deploy, parse_image_ref};
    use crate::command::Change;
    use crate::command::Command;
    use crate::grammar::{ParseError, parse};

    #[test]
    fn parses_tag_or_reference() {
        let tag = parse_image_ref("v1.0.3").expect("tag");
        assert_eq!(
            parse("deploy v1.0.3"),
            Ok(Command::Change(Change::Deploy(Deploy { image: tag })))
        );
        assert_eq!(
            parse("deploy mystocks/api:v1.0.1").map(|c| c.canonical()),
            Ok("deploy mystocks/api:v1.0.1".to_string())
        );
    }

    #[test]
    fn invalid_reference_names_the_problem_and_usage() {
        let err = parse("deploy mystocks/api").expect_err("no tag");
        assert_eq!(
            err.to_string(),
            "`mystocks/api` is not a valid image reference: name a tag or a digest, like `mystocks/api:v1.0.3` — usage: `deploy IMAGE_OR_TAG`"
        );
        assert!(matches!(
            parse("deploy"),
            Err(ParseError::MissingArgument { .. })
        ));
        assert!(matches!(
            parse("deploy v1 v2"),
            Err(ParseError::ExtraArgument { .. })
        ));
    }
}
