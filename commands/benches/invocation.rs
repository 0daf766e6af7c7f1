//! The pure front half of every invocation — parse, resolve the person, authorize, render the answer as plain
//! text — for typical commands. Goal: at least 100,000 invocations per second on one core.
//!
//! Run: `cargo bench -p mystocks-commands --bench invocation` (criterion prints elements/s as "thrpt").

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mystocks_commands::directory::Directory;
use mystocks_commands::grammar;
use mystocks_commands::invocation::Identity;
use mystocks_commands::policy;
use mystocks_commands::reply::{Level, Reply, ReplyKind};

/// One invocation's pure work; returns the rendered text's length so nothing is optimised away.
fn invoke(directory: &Directory, who: &Identity, text: &str) -> usize {
    let reply = match grammar::parse(text) {
        Ok(command) => {
            let principal = directory.resolve(who);
            match directory.authorize(&principal, &policy::rule(&command)) {
                Ok(()) => Reply::text(
                    ReplyKind::Result,
                    Level::Ok,
                    format!("{} by {}", command.canonical(), principal.display),
                )
                .with_header(command.name()),
                Err(refusal) => Reply::text(ReplyKind::Refusal, Level::Warn, refusal.to_string()),
            }
        }
        Err(err) => Reply::text(ReplyKind::Refusal, Level::Warn, err.to_string()),
    };
    reply.plain_text().len()
}

const TYPICAL: [(&str, &str); 5] = [
    ("console:alice", "/mystocks scale 5"),
    ("console:carol", "logs --tail 500 --grep \"time out\""),
    ("slack:TDEMO/UBOB", "approve a12"),
    ("console:carol", "scale 5"),
    ("console:alice", "deploy mystocks/api:v1.0.3"),
];

fn bench(c: &mut Criterion) {
    let directory = Directory::demo();
    let typical: Vec<(Identity, &str)> = TYPICAL
        .iter()
        .map(|(who, text)| (Identity(who.to_string()), *text))
        .collect();
    let mut group = c.benchmark_group("invocation");
    group.throughput(Throughput::Elements(1));
    group.bench_function("scale (parse+resolve+authorize+render)", |b| {
        b.iter(|| invoke(&directory, &typical[0].0, black_box(typical[0].1)))
    });
    group.throughput(Throughput::Elements(typical.len() as u64));
    group.bench_function("mix of 5 typical invocations", |b| {
        b.iter(|| {
            typical
                .iter()
                .map(|(who, text)| invoke(&directory, who, black_box(text)))
                .sum::<usize>()
        })
    });
    group.finish();
    // Only when measuring: test runners list and smoke-run benches (`--list`, `--test`) and must not get prose.
    if std::env::args().any(|a| a == "--bench") {
        print_plain_throughput(&directory, &typical);
    }
}

/// A plain measurement next to criterion's, in the units of the goal.
fn print_plain_throughput(directory: &Directory, typical: &[(Identity, &str)]) {
    let budget = Duration::from_secs(1);
    let started = Instant::now();
    let mut done: u64 = 0;
    while started.elapsed() < budget {
        for (who, text) in typical {
            black_box(invoke(directory, who, black_box(text)));
        }
        done += typical.len() as u64;
    }
    let per_second = done as f64 / started.elapsed().as_secs_f64();
    println!(
        "invocation throughput (one core, typical mix): {per_second:.0} invocations/s (goal ≥ 100000)"
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
