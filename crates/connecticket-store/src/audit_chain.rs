//! A writer's own audit chain, and where the writer last left it.
//!
//! Only its writer appends to a chain, so once the writer has read the
//! chain's head it can keep it instead of reading (and, on PostgreSQL,
//! locking) the anchor row in every transaction: on PostgreSQL that read
//! is one round trip of the ten a ticket costs, and one of the handful an
//! audit batch costs. The kept head is a shortcut, never the truth: the
//! anchor's update names the sequence number it expects, and whatever
//! leaves the head in doubt (a write rolled back after it appended, a
//! commit that failed or may have) makes the writer forget it, so that the
//! next append reads the row again.

use connecticket_domain::audit::ChainAnchor;

#[derive(Debug)]
pub struct AuditChain {
    id: i64,
    head: Option<ChainAnchor>,
    /// The newest head known to be committed (`(seq, hash)`): after a
    /// failover, the database must hold the chain at least this far, or
    /// entries were lost with the old primary.
    committed: Option<(i64, String)>,
}

impl AuditChain {
    /// A chain whose head is not known yet.
    pub fn new(id: i64) -> Self {
        AuditChain {
            id,
            head: None,
            committed: None,
        }
    }

    /// What was appended is committed now.
    pub fn committed(&mut self) {
        if let Some(head) = &self.head {
            self.committed = Some((head.last_seq, head.last_hash.clone()));
        }
    }

    pub(crate) fn committed_head(&self) -> Option<&(i64, String)> {
        self.committed.as_ref()
    }

    pub fn id(&self) -> i64 {
        self.id
    }

    /// The work since the last commit was undone, or may have been: the
    /// next append reads the head from the database.
    pub fn forget(&mut self) {
        self.head = None;
    }

    /// The kept head, if any, leaving none kept until [`AuditChain::keep`]
    /// puts the advanced one back: an append that fails half-way leaves
    /// nothing to trust.
    pub(crate) fn take_head(&mut self) -> Option<ChainAnchor> {
        self.head.take()
    }

    pub(crate) fn keep(&mut self, head: ChainAnchor) {
        self.head = Some(head);
    }
}
