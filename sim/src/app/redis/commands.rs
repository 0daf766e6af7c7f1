//! The commands the cache stand-in understands: PING, ECHO, INFO, QUIT, SELECT, CLIENT, COMMAND (and HELLO
//! refused, as a RESP2-only server does, so clients fall back to RESP2).

use std::sync::atomic::Ordering;

use super::Stats;
use super::resp::{Reply, sanitize};
use crate::app::counters;
use crate::app::profile::{Mode, Profile};
use crate::world::ClusterView;

/// What to do after a command.
pub(crate) struct Outcome {
    pub reply: Reply,
    /// Hang up after sending the reply (QUIT).
    pub close: bool,
}

fn reply(reply: Reply) -> Outcome {
    Outcome {
        reply,
        close: false,
    }
}

/// Runs one (non-empty) command.
pub(crate) fn execute(args: &[Vec<u8>], view: &dyn ClusterView, stats: &Stats) -> Outcome {
    let Some((name, rest)) = args.split_first() else {
        return reply(Reply::Error("ERR empty command".into()));
    };
    let given = String::from_utf8_lossy(name);
    let name = given.to_ascii_uppercase();
    match (name.as_str(), rest) {
        ("PING", []) => reply(Reply::Simple("PONG")),
        ("PING", [msg]) | ("ECHO", [msg]) => reply(Reply::Bulk(msg.clone())),
        ("SELECT", [db]) => reply(select(db)),
        ("PING" | "ECHO" | "SELECT", _) => reply(wrong_arity(&name)),
        ("QUIT", _) => Outcome {
            reply: Reply::Simple("OK"),
            close: true,
        },
        ("INFO", sections) => reply(Reply::Bulk(info(view, stats, sections).into_bytes())),
        ("COMMAND", _) => reply(Reply::EmptyArray),
        ("CLIENT", [sub, ..]) => reply(client(sub, stats)),
        _ => reply(unknown(&given, rest)),
    }
}

fn wrong_arity(name: &str) -> Reply {
    Reply::Error(format!(
        "ERR wrong number of arguments for '{}' command",
        name.to_ascii_lowercase()
    ))
}

fn unknown(name: &str, rest: &[Vec<u8>]) -> Reply {
    let args: String = rest
        .iter()
        .take(4)
        .map(|a| format!("'{}' ", sanitize(a)))
        .collect();
    Reply::Error(format!(
        "ERR unknown command '{}', with args beginning with: {args}",
        sanitize(name.as_bytes())
    ))
}

fn select(db: &[u8]) -> Reply {
    match std::str::from_utf8(db)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
    {
        Some(n) if (0..16).contains(&n) => Reply::Simple("OK"),
        Some(_) => Reply::Error("ERR DB index is out of range".into()),
        None => Reply::Error("ERR value is not an integer or out of range".into()),
    }
}

fn client(sub: &[u8], stats: &Stats) -> Reply {
    match sanitize(sub).to_ascii_uppercase().as_str() {
        "SETINFO" | "SETNAME" => Reply::Simple("OK"),
        "GETNAME" => Reply::Null,
        "ID" => Reply::Integer(stats.received.load(Ordering::Relaxed) as i64),
        other => Reply::Error(format!(
            "ERR unknown subcommand '{other}'. Try CLIENT HELP."
        )),
    }
}

/// The INFO text: server, clients, memory, stats and keyspace sections, CRLF-separated like Redis; only the
/// named sections when some are asked for. Keyspace hits and misses are the app pods' cache hits and misses.
fn info(view: &dyn ClusterView, stats: &Stats, wanted: &[Vec<u8>]) -> String {
    let wanted: Vec<String> = wanted
        .iter()
        .map(|w| sanitize(w).to_ascii_lowercase())
        .collect();
    let all = wanted.is_empty()
        || wanted
            .iter()
            .any(|w| matches!(w.as_str(), "all" | "default" | "everything"));
    let sections: Vec<String> = info_sections(view, stats)
        .into_iter()
        .filter(|(name, _)| all || wanted.iter().any(|w| w == name))
        .map(|(name, lines)| {
            let title = format!("# {}{}", name[..1].to_ascii_uppercase(), &name[1..]);
            std::iter::once(title)
                .chain(lines)
                .collect::<Vec<_>>()
                .join("\r\n")
        })
        .collect();
    sections.join("\r\n\r\n") + "\r\n"
}

fn info_sections(view: &dyn ClusterView, stats: &Stats) -> Vec<(&'static str, Vec<String>)> {
    let now = view.now();
    let scenario = view.scenario();
    let pods = view.app_pods();
    let (mut hits, mut misses) = (0.0, 0.0);
    let mut app_connections = 0;
    for pod in &pods {
        let profile = Profile::of(Mode::of(pod, &scenario));
        let traffic = pod.serving() || profile.mode == Mode::Crashing;
        if let Some((h, m)) = counters::with(pod, &profile, traffic, now, |c| {
            (c.cache_hits, c.cache_misses)
        }) {
            hits += h;
            misses += m;
            app_connections += 4;
        }
    }
    let oldest = pods.iter().map(|p| p.created_at).min().unwrap_or(now);
    let uptime = (now - oldest).num_seconds().max(0) + 3 * 86_400;
    let clients = stats.connected.load(Ordering::Relaxed) + app_connections;
    let used_memory: u64 = 48 * 1024 * 1024 + (hits as u64 % 4096) * 1024;
    vec![
        (
            "server",
            vec![
                "redis_version:7.2.4".to_string(),
                "redis_mode:standalone".to_string(),
                "os:Linux 6.1.0 x86_64".to_string(),
                "tcp_port:6379".to_string(),
                format!("uptime_in_seconds:{uptime}"),
                format!("uptime_in_days:{}", uptime / 86_400),
            ],
        ),
        (
            "clients",
            vec![
                format!("connected_clients:{clients}"),
                "blocked_clients:0".to_string(),
            ],
        ),
        (
            "memory",
            vec![
                format!("used_memory:{used_memory}"),
                format!(
                    "used_memory_human:{:.2}M",
                    used_memory as f64 / (1024.0 * 1024.0)
                ),
                "maxmemory:536870912".to_string(),
                "maxmemory_policy:allkeys-lru".to_string(),
            ],
        ),
        (
            "stats",
            vec![
                format!(
                    "total_connections_received:{}",
                    stats.received.load(Ordering::Relaxed)
                ),
                format!("keyspace_hits:{}", hits as u64),
                format!("keyspace_misses:{}", misses as u64),
            ],
        ),
        (
            "keyspace",
            vec!["db0:keys=1843,expires=1843,avg_ttl=27411".to_string()],
        ),
    ]
}
