//! The replicated PostgreSQL the failover tests run on (issue 30): a
//! primary and a synchronous standby made by the test helper, the primary
//! killed, the standby promoted.

use crate::support::cluster::Cluster;

#[test]
fn a_synchronous_standby_keeps_an_acknowledged_write_through_a_promotion() {
    let Some(cluster) = Cluster::start(true) else {
        return;
    };
    let (primary, standby) = (cluster.primary_port, cluster.standby_port);
    cluster.sql(primary, "CREATE TABLE marks (n integer)");
    cluster.sql(primary, "INSERT INTO marks VALUES (1)");
    assert_eq!(cluster.sql(standby, "SELECT pg_is_in_recovery()"), "t");
    assert_eq!(
        cluster.sql(primary, "SELECT sync_state FROM pg_stat_replication"),
        "sync",
        "the commit above waited for the standby"
    );

    cluster.stop_primary_immediately();
    cluster.promote_standby();
    assert_eq!(cluster.sql(standby, "SELECT pg_is_in_recovery()"), "f");
    assert_eq!(
        cluster.sql(standby, "SELECT count(*) FROM marks"),
        "1",
        "the acknowledged write survived the primary"
    );
    cluster.sql(standby, "INSERT INTO marks VALUES (2)");
    assert_eq!(cluster.sql(standby, "SELECT count(*) FROM marks"), "2");
}
