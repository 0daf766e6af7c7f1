//! Incident glue: runs the `incident` sub-commands and `oncall`, knows which thread is a war room, appends every
//! command, approval and change made there to the incident's timeline (citing its audit row), pages through
//! PagerDuty, and runs the SLA and break-glass-review timers as stored jobs.

mod breakglass;
mod declare;
mod lifecycle;
mod room;
mod timeline;
mod timers;
mod views;

use crate::command::Incident;

use super::dispatch::{Outcome, Request};

pub(super) use timeline::{Done, after_invocation, approval_closed, thread_incident};
pub(super) use timers::{is_job, run_job};
pub(super) use views::oncall;

/// Runs one `incident` sub-command.
pub(super) async fn run(request: &Request<'_>, command: &Incident) -> Outcome {
    match command {
        Incident::Declare { severity, title } => declare::declare(request, *severity, title).await,
        Incident::Ack { id } => lifecycle::ack(request, *id).await,
        Incident::Note { text } => lifecycle::note(request, text).await,
        Incident::Role { role, person } => lifecycle::role(request, *role, person).await,
        Incident::Status { status } => lifecycle::status(request, *status).await,
        Incident::Severity { severity, reason } => {
            lifecycle::severity(request, *severity, reason).await
        }
        Incident::Resolve { id } => lifecycle::resolve(request, *id).await,
        Incident::List => views::list(request).await,
        Incident::Show { id } => views::show(request, *id).await,
        Incident::Postmortem { id } => views::postmortem(request, *id).await,
        Incident::Review { approval } => breakglass::review(request, approval.as_ref()).await,
        Incident::BreakGlass { change, reason } => breakglass::run(request, change, reason).await,
    }
}
