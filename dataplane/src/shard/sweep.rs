//! The shard's one clock for everything that can expire on its
//! connections: about once a second, and only while the shard has a
//! connection, it reads the time once and closes the connections whose
//! clocks ran out. Requests carry no timer of their own.

use std::rc::Rc;
use std::time::Duration;

use super::ShardContext;

/// How often the sweep looks; also how late a deadline may be noticed.
pub const SWEEP_TICK: Duration = Duration::from_secs(1);

pub async fn sweep(ctx: Rc<ShardContext>) {
    let Some(wake) = ctx.take_sweep_wake() else {
        return;
    };
    loop {
        if ctx.open_connections() == 0 {
            // Parked while there is nothing to expire; the first connection
            // to open wakes it.
            if wake.recv().await.is_none() {
                return;
            }
            continue;
        }
        glommio::timer::sleep(SWEEP_TICK).await;
        let now = ctx.conns.clock.tick();
        ctx.expire(now);
    }
}
