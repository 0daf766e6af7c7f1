//! Serving a router on a TCP listener, over TLS (HTTP/1.1 only, as kubectl needs) or plain HTTP. Each
//! connection is its own task, owned by the server task, so aborting the server closes every connection.

use std::sync::Arc;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// Serves `router` on `listener` until the task is aborted.
pub async fn serve(listener: TcpListener, router: Router, tls: Option<Arc<rustls::ServerConfig>>) {
    let acceptor = tls.map(TlsAcceptor::from);
    let mut connections = JoinSet::new();
    loop {
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let acceptor = acceptor.clone();
        connections.spawn(async move {
            let builder = hyper::server::conn::http1::Builder::new();
            match acceptor {
                Some(acceptor) => {
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
                None => {
                    let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
                }
            }
        });
    }
}
