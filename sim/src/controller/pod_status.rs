//! A Pod's `status` as the kubelet would report it (phase, conditions, container state with reasons such as
//! ContainerCreating, ErrImagePull, CrashLoopBackOff, restart counts, IPs), rendered from its [`PodRuntime`], and
//! the view of a pod the application side reads.

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, Pod, PodCondition, PodIP, PodStatus,
};

use super::pods::{PodRuntime, Stage};
use crate::clock::{from_ktime, ktime};
use crate::world::PodView;

/// Writes the pod's `status` from its runtime state.
pub fn render_status(pod: &mut Pod, rt: &PodRuntime) {
    let created = pod.metadata.creation_timestamp.clone();
    let image = pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    let container = pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let stage = rt.stage;
    let terminating = matches!(stage, Stage::Terminating { .. });
    let running = match stage {
        Stage::Starting | Stage::Ready => true,
        Stage::Terminating { .. } => rt.was_running,
        _ => false,
    };
    let ready = stage == Stage::Ready;
    let phase = if running || matches!(stage, Stage::CrashBackOff { .. }) {
        "Running"
    } else {
        "Pending"
    };
    let since = ktime(rt.since);
    let waiting = |reason: &str, message: Option<String>| ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.into()),
            message,
        }),
        ..Default::default()
    };
    let state = match stage {
        Stage::Pending => None,
        Stage::ContainerCreating => Some(waiting("ContainerCreating", None)),
        Stage::ErrImagePull => Some(waiting("ErrImagePull", Some(pull_message(&image)))),
        Stage::ImagePullBackOff { .. } => Some(waiting(
            "ImagePullBackOff",
            Some(format!("Back-off pulling image \"{image}\"")),
        )),
        Stage::CrashBackOff { .. } => Some(waiting(
            "CrashLoopBackOff",
            Some(format!(
                "back-off restarting failed container {container} in pod {}",
                pod_name(pod)
            )),
        )),
        Stage::Starting | Stage::Ready | Stage::Terminating { .. } => Some(ContainerState {
            running: Some(ContainerStateRunning {
                started_at: rt.started_at.map(ktime),
            }),
            ..Default::default()
        }),
    };
    let last_state = rt.last_exit.map(|(started, finished)| ContainerState {
        terminated: Some(ContainerStateTerminated {
            // The bad release exits with 3 ("schema check failed (exit code 3)" in its log).
            exit_code: 3,
            reason: Some("Error".into()),
            started_at: Some(ktime(started)),
            finished_at: Some(ktime(finished)),
            container_id: Some(format!("containerd://{}", short_id(pod, rt.restarts))),
            ..Default::default()
        }),
        ..Default::default()
    });
    let container_statuses = state.map(|state| {
        vec![ContainerStatus {
            name: container.clone(),
            image: image.clone(),
            image_id: if running {
                format!("docker.io/{image}@sha256:{}", fake_digest(&image))
            } else {
                String::new()
            },
            container_id: running
                .then(|| format!("containerd://{}", short_id(pod, rt.restarts + 1))),
            ready,
            started: Some(running),
            restart_count: rt.restarts as i32,
            state: Some(state),
            last_state,
            ..Default::default()
        }]
    });
    let cond = |type_: &str, ok: bool| PodCondition {
        type_: type_.into(),
        status: if ok { "True" } else { "False" }.into(),
        last_transition_time: Some(if ok {
            since.clone()
        } else {
            created.clone().unwrap_or(since.clone())
        }),
        reason: (!ok && (type_ == "Ready" || type_ == "ContainersReady"))
            .then(|| "ContainersNotReady".into()),
        ..Default::default()
    };
    let scheduled = stage != Stage::Pending || terminating;
    let mut conditions = vec![cond("PodScheduled", true)];
    if scheduled {
        conditions.push(cond(
            "PodReadyToStartContainers",
            running || stage != Stage::ContainerCreating,
        ));
        conditions.push(cond("Initialized", true));
        conditions.push(cond("ContainersReady", ready));
        conditions.push(cond("Ready", ready));
    }
    pod.status = Some(PodStatus {
        phase: Some(phase.into()),
        conditions: Some(conditions),
        container_statuses,
        host_ip: scheduled.then(|| "10.0.0.11".into()),
        pod_ip: scheduled.then(|| rt.ip.clone()),
        pod_ips: scheduled.then(|| vec![PodIP { ip: rt.ip.clone() }]),
        start_time: created,
        qos_class: Some("Burstable".into()),
        ..Default::default()
    });
}

fn pull_message(image: &str) -> String {
    format!(
        "failed to pull and unpack image \"docker.io/{image}\": failed to resolve reference \"docker.io/{image}\": \
         not found"
    )
}

fn pod_name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or("")
}

fn short_id(pod: &Pod, n: u32) -> String {
    format!("{:016x}{:016x}", fnv(pod_name(pod).as_bytes()), n)
}

fn fake_digest(image: &str) -> String {
    format!(
        "{:016x}{:016x}{:016x}{:016x}",
        fnv(image.as_bytes()),
        1,
        2,
        3
    )
}

/// FNV-1a, for stable made-up identifiers.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100000001b3)
    })
}

/// How the application side sees a pod.
pub fn pod_view(pod: &Pod, rt: &PodRuntime) -> PodView {
    let c = pod.spec.as_ref().and_then(|s| s.containers.first());
    PodView {
        name: pod.metadata.name.clone().unwrap_or_default(),
        uid: pod.metadata.uid.clone().unwrap_or_default(),
        image: c.and_then(|c| c.image.clone()).unwrap_or_default(),
        container: c.map(|c| c.name.clone()).unwrap_or_default(),
        state: rt.pod_state(),
        started_at: rt.started_at,
        created_at: pod
            .metadata
            .creation_timestamp
            .as_ref()
            .map(from_ktime)
            .unwrap_or(rt.since),
        restarts: rt.restarts,
    }
}
