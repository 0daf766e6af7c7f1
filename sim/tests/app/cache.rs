//! The Redis stand-in, spoken to by the `redis` crate and by raw TCP.

use std::sync::Arc;

use mystocks_sim::app;
use mystocks_sim::world::Scenario;

use super::fake::FakeCluster;

async fn start_redis(
    view: Arc<FakeCluster>,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    (addr, tokio::spawn(app::redis::serve(listener, view)))
}

#[tokio::test]
async fn the_cache_stand_in_answers_the_redis_crate() {
    let view = FakeCluster::three("cache", Scenario::Healthy);
    let (addr, _server) = start_redis(view.clone()).await;
    let client = redis::Client::open(format!("redis://{addr}/")).expect("client");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let pong: String = redis::cmd("PING")
        .query_async(&mut con)
        .await
        .expect("ping");
    assert_eq!(pong, "PONG");
    let echo: String = redis::cmd("PING")
        .arg("hi there")
        .query_async(&mut con)
        .await
        .expect("ping msg");
    assert_eq!(echo, "hi there");
    let info: String = redis::cmd("INFO")
        .query_async(&mut con)
        .await
        .expect("info");
    for field in [
        "redis_version:",
        "connected_clients:",
        "used_memory:",
        "keyspace_hits:",
        "keyspace_misses:",
    ] {
        assert!(info.contains(field), "INFO lacks {field}: {info}");
    }
    let stats: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(&mut con)
        .await
        .expect("info stats");
    assert!(
        stats.starts_with("# Stats\r\n") && stats.contains("keyspace_hits:"),
        "{stats}"
    );
    assert!(
        !stats.contains("redis_version"),
        "only the asked section: {stats}"
    );
    let unknown: redis::RedisResult<String> = redis::cmd("flushall").query_async(&mut con).await;
    assert!(unknown.is_err_and(|e| e.to_string().contains("unknown command 'flushall'")));
}

#[tokio::test]
async fn the_cache_is_unreachable_under_redis_down() {
    let view = FakeCluster::three("cache-down", Scenario::RedisDown);
    let (addr, _server) = start_redis(view.clone()).await;
    let client = redis::Client::open(format!("redis://{addr}/")).expect("client");
    let result = async {
        let mut con = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut con).await
    };
    assert!(
        result.await.is_err(),
        "PING must fail while the cache is down"
    );
    view.set_scenario_name(Scenario::Healthy);
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("back up");
    let pong: String = redis::cmd("PING")
        .query_async(&mut con)
        .await
        .expect("ping");
    assert_eq!(pong, "PONG");
}

#[tokio::test]
async fn the_cache_speaks_inline_and_survives_garbage() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let view = FakeCluster::three("cache-raw", Scenario::Healthy);
    let (addr, server) = start_redis(view).await;
    let exchange = |input: &'static [u8]| async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.write_all(input).await.expect("write");
        let mut out = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            stream.read_to_end(&mut out),
        )
        .await;
        String::from_utf8_lossy(&out).into_owned()
    };
    assert_eq!(
        exchange(b"PING\r\nECHO hello\r\nQUIT\r\n").await,
        "+PONG\r\n$5\r\nhello\r\n+OK\r\n"
    );
    assert!(
        exchange(b"*1\r\n+PING\r\n")
            .await
            .starts_with("-ERR Protocol error")
    );
    assert!(
        exchange(b"*2\r\n$4\r\nECHO\r\n$-7\r\n")
            .await
            .starts_with("-ERR Protocol error")
    );
    assert!(
        exchange(b"HELLO 3\r\nQUIT\r\n")
            .await
            .starts_with("-ERR unknown command 'HELLO'")
    );
    server.abort();
    let _ = server.await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "dropping the server closes the port"
    );
}
