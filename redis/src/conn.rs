//! The two connections behind a [`Client`](crate::Client), whichever the deployment: the
//! command connection every script runs on, and the subscriber connection that receives the
//! grant hints (sharded pub/sub, on the hint channels of the primitives the client waits on).
//! A single server is reached through redis-rs's reconnecting `ConnectionManager`; a Redis Cluster (feature `cluster`) through its async cluster
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
    /// Subscribes to the shard channel `channel` (a subscriber connection). On a cluster,
    /// redis-rs sends it to the master serving the channel's slot, and follows the slot
    /// through reconnects and resharding; on one server the manager's subscription tracker
    /// records the confirmation and re-subscribes after a reconnect.
    pub(crate) async fn ssubscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            // The manager has no `ssubscribe` of its own: the single confirmation of a
            // one-channel SSUBSCRIBE is the command's reply.
            Conn::Single(conn) => redis::cmd("SSUBSCRIBE")
                .arg(channel)
                .query_async::<Value>(conn)
                .await
                .map(drop),
            #[cfg(feature = "cluster")]
            Conn::Cluster(conn) => conn.ssubscribe(channel).await,
        }
    }

    /// Unsubscribes from the shard channel `channel`.
    pub(crate) async fn sunsubscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            // redis-rs 1.8's multiplexed connection takes an `sunsubscribe` confirmation that
            // no subscription request awaits for one a cluster sent on its own (a slot moved),
            // and drops it after updating its subscription tracker: a bare SUNSUBSCRIBE would
            // never be answered. A PING pipelined behind it is, and it answers the pair.
            Conn::Single(conn) => {
                let mut pipe = redis::pipe();
                pipe.cmd("SUNSUBSCRIBE").arg(channel).cmd("PING");
                let replies = conn.req_packed_commands(&pipe, 0, 1).await?;
                match replies.as_slice() {
                    [Value::SimpleString(pong)] if pong == "PONG" => Ok(()),
                    other => Err(redis::RedisError::from((
                        redis::ErrorKind::Client,
                        "unexpected reply to SUNSUBSCRIBE + PING",
                        format!("{other:?}"),
                    ))),
                }
            }
            #[cfg(feature = "cluster")]
            Conn::Cluster(conn) => conn.sunsubscribe(channel).await,
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
