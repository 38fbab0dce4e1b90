//! The two connections behind a [`Client`](crate::Client), whichever the deployment: the
//! command connection every script runs on, and the subscriber connection that receives the
//! client's grant hints. A single server is reached through redis-rs's reconnecting
//! `ConnectionManager`; a Redis Cluster (feature `cluster`) through its async cluster
//! connection, which routes each script to the node owning its keys' slot (every script of one
//! primitive touches one slot: its hash tag). The engine sees only [`Conn`], so both modes run
//! the same scripts and the same waiting logic.

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

/// A command (or subscriber) connection: cheap to clone, multiplexed, reconnecting by itself.
#[derive(Clone)]
pub(crate) enum Conn {
    /// One server.
    Single(ConnectionManager),
    /// A Redis Cluster.
    #[cfg(feature = "cluster")]
    Cluster(redis::cluster_async::ClusterConnection),
}

impl Conn {
    /// Subscribes to `channel` (a subscriber connection; re-subscribed after a reconnect).
    pub(crate) async fn subscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            Conn::Single(conn) => conn.subscribe(channel).await,
            #[cfg(feature = "cluster")]
            Conn::Cluster(conn) => conn.subscribe(channel).await,
        }
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(conn) => conn.req_packed_command(cmd),
            #[cfg(feature = "cluster")]
            Conn::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            #[cfg(feature = "cluster")]
            Conn::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(conn) => conn.get_db(),
            #[cfg(feature = "cluster")]
            Conn::Cluster(conn) => conn.get_db(),
        }
    }
}
