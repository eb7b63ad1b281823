//! The group coordinator (Kafka's classic consumer-group protocol): members join, the broker
//! picks a protocol and a leader, the leader's assignment is handed out at SyncGroup, members
//! heartbeat and a rebalance starts when one joins, leaves or goes silent past its session
//! timeout. Assignors run in the clients (range, roundrobin, cooperative-sticky alike: the
//! broker relays their bytes). Committed offsets are durable (`offsets.rs`).

mod offsets;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::oneshot;

pub use offsets::{Committed, OffsetStore, TopicOffsets};

use crate::errors;

/// Kafka's `group.min.session.timeout.ms` and `group.max.session.timeout.ms`.
const MIN_SESSION: Duration = Duration::from_millis(6_000);
const MAX_SESSION: Duration = Duration::from_millis(1_800_000);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
}

impl State {
    /// Kafka's name for the state (DescribeGroups, ListGroups).
    pub fn name(self) -> &'static str {
        match self {
            State::Empty => "Empty",
            State::PreparingRebalance => "PreparingRebalance",
            State::CompletingRebalance => "CompletingRebalance",
            State::Stable => "Stable",
        }
    }
}

struct Member {
    id: String,
    instance_id: Option<String>,
    client_id: String,
    client_host: String,
    session: Duration,
    rebalance: Duration,
    protocols: Vec<(String, Bytes)>,
    assignment: Bytes,
    seen: Instant,
    joining: Option<oneshot::Sender<Joined>>,
    syncing: Option<oneshot::Sender<Synced>>,
}

struct Group {
    state: State,
    generation: i32,
    protocol_type: Option<String>,
    protocol: Option<String>,
    leader: Option<String>,
    /// In the order they joined (the first is leader when the old one is gone).
    members: Vec<Member>,
    /// Ids handed out with MEMBER_ID_REQUIRED, awaited until their deadline.
    pending: Vec<(String, Instant)>,
    /// When a rebalance completes without the members that have not rejoined.
    deadline: Option<Instant>,
    /// A rebalance of a group that was empty completes no sooner than this.
    not_before: Option<Instant>,
}

impl Group {
    fn new() -> Group {
        Group {
            state: State::Empty,
            generation: 0,
            protocol_type: None,
            protocol: None,
            leader: None,
            members: Vec::new(),
            pending: Vec::new(),
            deadline: None,
            not_before: None,
        }
    }

    fn member(&mut self, id: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.id == id)
    }
}

/// A JoinGroup's answer.
#[derive(Debug, Clone, Default)]
pub struct Joined {
    pub error: i16,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol: Option<String>,
    pub leader: String,
    pub member_id: String,
    /// The members and their metadata, for the leader only.
    pub members: Vec<(String, Option<String>, Bytes)>,
}

/// A SyncGroup's answer.
#[derive(Debug, Clone, Default)]
pub struct Synced {
    pub error: i16,
    pub protocol_type: Option<String>,
    pub protocol: Option<String>,
    pub assignment: Bytes,
}

/// An answer now, or one to wait for (the rebalance completing).
pub enum Reply<T> {
    Now(T),
    Later(oneshot::Receiver<T>),
}

/// What a JoinGroup asks.
pub struct Join {
    pub group: String,
    pub member_id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session: Duration,
    pub rebalance: Duration,
    pub protocol_type: String,
    pub protocols: Vec<(String, Bytes)>,
    /// JoinGroup v4 and later hand a new member its id before it joins.
    pub id_required: bool,
}

/// A group as DescribeGroups shows it.
pub struct Described {
    pub state: State,
    pub protocol_type: String,
    pub protocol: String,
    /// id, instance id, client id, client host, metadata, assignment.
    pub members: Vec<(String, Option<String>, String, String, Bytes, Bytes)>,
}

pub struct Coordinator {
    groups: Mutex<HashMap<String, Group>>,
    pub offsets: OffsetStore,
    initial_delay: Duration,
}

fn failed(error: i16) -> Joined {
    Joined {
        error,
        generation: -1,
        ..Joined::default()
    }
}

impl Coordinator {
    /// Opens the coordinator, reading committed offsets from `dir` (memory only when None).
    pub fn open(dir: Option<PathBuf>, initial_delay: Duration) -> std::io::Result<Coordinator> {
        let offsets = OffsetStore::open(dir)?;
        let groups = offsets
            .groups()
            .into_iter()
            .map(|g| (g, Group::new()))
            .collect();
        Ok(Coordinator {
            groups: Mutex::new(groups),
            offsets,
            initial_delay,
        })
    }

    pub fn join(&self, j: Join) -> Reply<Joined> {
        if j.group.is_empty() {
            return Reply::Now(failed(errors::INVALID_GROUP_ID));
        }
        if !(MIN_SESSION..=MAX_SESSION).contains(&j.session) {
            return Reply::Now(failed(errors::INVALID_SESSION_TIMEOUT));
        }
        if j.protocol_type.is_empty() || j.protocols.is_empty() {
            return Reply::Now(failed(errors::INCONSISTENT_GROUP_PROTOCOL));
        }
        let now = Instant::now();
        let mut groups = self.groups.lock();
        // A group comes into being with a new member, never with an unknown one.
        if !j.member_id.is_empty() && !groups.contains_key(&j.group) {
            return Reply::Now(failed(errors::UNKNOWN_MEMBER_ID));
        }
        let g = groups.entry(j.group.clone()).or_insert_with(Group::new);
        // One protocol every member (the joiner too) supports, as Kafka requires.
        let others: Vec<&Member> = g.members.iter().filter(|m| m.id != j.member_id).collect();
        let common = j.protocols.iter().any(|(n, _)| {
            others
                .iter()
                .all(|m| m.protocols.iter().any(|(o, _)| o == n))
        });
        let same_type =
            others.is_empty() || g.protocol_type.as_deref() == Some(j.protocol_type.as_str());
        if !common || !same_type {
            return Reply::Now(failed(errors::INCONSISTENT_GROUP_PROTOCOL));
        }
        let mut member_id = j.member_id.clone();
        if member_id.is_empty() {
            // A static member coming back replaces its old self.
            if let Some(inst) = &j.instance_id {
                if let Some(pos) = g
                    .members
                    .iter()
                    .position(|m| m.instance_id.as_ref() == Some(inst))
                {
                    let old = g.members.remove(pos);
                    fence(old, errors::FENCED_INSTANCE_ID);
                }
            }
            member_id = format!("{}-{}", j.client_id, weir_log::ids::uuid());
            if j.id_required && j.instance_id.is_none() {
                g.pending.push((member_id.clone(), now + j.session));
                return Reply::Now(Joined {
                    member_id,
                    ..failed(errors::MEMBER_ID_REQUIRED)
                });
            }
        } else if g.member(&member_id).is_none()
            && !g.pending.iter().any(|(id, _)| *id == member_id)
        {
            return Reply::Now(failed(errors::UNKNOWN_MEMBER_ID));
        }
        g.pending.retain(|(id, _)| *id != member_id);
        let (tx, rx) = oneshot::channel();
        let known = match g.member(&member_id) {
            Some(m) => {
                let unchanged = m.protocols == j.protocols;
                m.protocols = j.protocols;
                m.session = j.session;
                m.rebalance = j.rebalance;
                m.seen = now;
                m.joining = Some(tx);
                unchanged
            }
            None => {
                g.members.push(Member {
                    id: member_id.clone(),
                    instance_id: j.instance_id,
                    client_id: j.client_id,
                    client_host: j.client_host,
                    session: j.session,
                    rebalance: j.rebalance,
                    protocols: j.protocols,
                    assignment: Bytes::new(),
                    seen: now,
                    joining: Some(tx),
                    syncing: None,
                });
                false
            }
        };
        g.protocol_type = Some(j.protocol_type);
        let is_leader = g.leader.as_deref() == Some(member_id.as_str());
        match g.state {
            // A follower asking again with nothing changed gets the generation it is in.
            State::Stable | State::CompletingRebalance
                if known && (!is_leader || g.state == State::CompletingRebalance) =>
            {
                let m = g.member(&member_id).and_then(|m| m.joining.take());
                let answer = joined(g, &member_id);
                if let Some(tx) = m {
                    let _ = tx.send(answer);
                }
            }
            State::PreparingRebalance => {}
            _ => self.prepare(g, now),
        }
        complete_join(g, now);
        Reply::Later(rx)
    }

    /// Starts a rebalance: members rejoin until the deadline (the group's longest rebalance
    /// timeout; the initial delay for a group that was empty).
    fn prepare(&self, g: &mut Group, now: Instant) {
        let was_empty = g.state == State::Empty;
        for m in &mut g.members {
            if let Some(tx) = m.syncing.take() {
                let _ = tx.send(Synced {
                    error: errors::REBALANCE_IN_PROGRESS,
                    ..Synced::default()
                });
            }
        }
        g.state = State::PreparingRebalance;
        let longest = g.members.iter().map(|m| m.rebalance).max();
        g.deadline = Some(now + longest.unwrap_or_default().max(self.initial_delay));
        g.not_before = was_empty.then_some(now + self.initial_delay);
    }

    pub fn sync(
        &self,
        group: &str,
        generation: i32,
        member_id: &str,
        protocol: (Option<String>, Option<String>),
        assignments: Vec<(String, Bytes)>,
    ) -> Reply<Synced> {
        let now_error = |error| {
            Reply::Now(Synced {
                error,
                ..Synced::default()
            })
        };
        let mut groups = self.groups.lock();
        let Some(g) = groups.get_mut(group) else {
            return now_error(errors::UNKNOWN_MEMBER_ID);
        };
        if g.member(member_id).is_none() {
            return now_error(errors::UNKNOWN_MEMBER_ID);
        }
        if generation != g.generation {
            return now_error(errors::ILLEGAL_GENERATION);
        }
        let (ptype, pname) = protocol;
        if ptype.is_some_and(|t| Some(t) != g.protocol_type)
            || pname.is_some_and(|n| Some(n) != g.protocol)
        {
            return now_error(errors::INCONSISTENT_GROUP_PROTOCOL);
        }
        match g.state {
            State::Empty => now_error(errors::UNKNOWN_MEMBER_ID),
            State::PreparingRebalance => now_error(errors::REBALANCE_IN_PROGRESS),
            State::Stable => {
                if let Some(m) = g.member(member_id) {
                    m.seen = Instant::now();
                }
                let answer = synced(g, member_id);
                Reply::Now(answer)
            }
            State::CompletingRebalance => {
                let (tx, rx) = oneshot::channel();
                if let Some(m) = g.member(member_id) {
                    m.seen = Instant::now();
                    m.syncing = Some(tx);
                }
                if g.leader.as_deref() == Some(member_id) {
                    let mut given: HashMap<String, Bytes> = assignments.into_iter().collect();
                    for m in &mut g.members {
                        m.assignment = given.remove(&m.id).unwrap_or_default();
                    }
                    g.state = State::Stable;
                    let ids: Vec<String> = g.members.iter().map(|m| m.id.clone()).collect();
                    for id in ids {
                        let answer = synced(g, &id);
                        if let Some(tx) = g.member(&id).and_then(|m| m.syncing.take()) {
                            let _ = tx.send(answer);
                        }
                    }
                }
                Reply::Later(rx)
            }
        }
    }

    pub fn heartbeat(&self, group: &str, generation: i32, member_id: &str) -> i16 {
        let mut groups = self.groups.lock();
        let Some(g) = groups.get_mut(group) else {
            return errors::UNKNOWN_MEMBER_ID;
        };
        let state = g.state;
        let current = g.generation;
        let Some(m) = g.member(member_id) else {
            return errors::UNKNOWN_MEMBER_ID;
        };
        m.seen = Instant::now();
        match state {
            State::Empty => errors::UNKNOWN_MEMBER_ID,
            _ if generation != current => errors::ILLEGAL_GENERATION,
            State::PreparingRebalance => errors::REBALANCE_IN_PROGRESS,
            _ => errors::NONE,
        }
    }

    /// Members leaving (by member id, or by instance id when the id is empty); each one's code.
    pub fn leave(&self, group: &str, members: &[(String, Option<String>)]) -> Vec<i16> {
        let mut groups = self.groups.lock();
        let Some(g) = groups.get_mut(group) else {
            return vec![errors::UNKNOWN_MEMBER_ID; members.len()];
        };
        let codes: Vec<i16> = members
            .iter()
            .map(|(id, inst)| {
                let pos = g.members.iter().position(|m| match id.is_empty() {
                    true => inst.is_some() && m.instance_id == *inst,
                    false => m.id == *id,
                });
                match pos {
                    Some(pos) => {
                        fence(g.members.remove(pos), errors::UNKNOWN_MEMBER_ID);
                        errors::NONE
                    }
                    None => errors::UNKNOWN_MEMBER_ID,
                }
            })
            .collect();
        if codes.contains(&errors::NONE) {
            let now = Instant::now();
            if g.state != State::PreparingRebalance {
                self.prepare(g, now);
            }
            complete_join(g, now);
        }
        codes
    }

    /// Expires silent members and pending ids, and completes rebalances past their deadline.
    pub fn tick(&self, now: Instant) {
        let mut groups = self.groups.lock();
        for g in groups.values_mut() {
            g.pending.retain(|(_, until)| *until > now);
            let silent = |m: &Member| {
                m.joining.is_none() && m.syncing.is_none() && m.seen + m.session <= now
            };
            if g.members.iter().any(silent) {
                let (gone, kept) = std::mem::take(&mut g.members)
                    .into_iter()
                    .partition(|m| silent(m));
                g.members = kept;
                for m in gone {
                    tracing::debug!(member = %m.id, "a Kafka group member's session expired");
                    fence(m, errors::UNKNOWN_MEMBER_ID);
                }
                if g.state != State::PreparingRebalance {
                    self.prepare(g, now);
                }
            }
            complete_join(g, now);
        }
    }

    /// Whether the group may take a commit from this member and generation: the group-level
    /// error when not.
    pub fn may_commit(&self, group: &str, generation: i32, member_id: &str) -> Result<(), i16> {
        let mut groups = self.groups.lock();
        let Some(g) = groups.get_mut(group) else {
            // A group outside group management (assign() consumers) commits at generation -1.
            return match generation < 0 {
                true => {
                    groups.insert(group.to_string(), Group::new());
                    Ok(())
                }
                false => Err(errors::ILLEGAL_GENERATION),
            };
        };
        // Kafka's order: a simple commit to an empty group; else the member, its generation,
        // and only then the group's state.
        if generation < 0 && g.state == State::Empty {
            return Ok(());
        }
        let current = g.generation;
        let Some(m) = g.member(member_id) else {
            return Err(errors::UNKNOWN_MEMBER_ID);
        };
        // A commit is a sign of life, as a heartbeat.
        m.seen = Instant::now();
        if generation != current {
            return Err(errors::ILLEGAL_GENERATION);
        }
        if g.state == State::CompletingRebalance {
            return Err(errors::REBALANCE_IN_PROGRESS);
        }
        Ok(())
    }

    /// Every group: id, protocol type, state.
    pub fn list(&self) -> Vec<(String, String, State)> {
        let groups = self.groups.lock();
        let mut out: Vec<_> = groups
            .iter()
            .map(|(id, g)| {
                let ptype = g.protocol_type.clone().unwrap_or_default();
                (id.clone(), ptype, g.state)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    pub fn describe(&self, group: &str) -> Option<Described> {
        let groups = self.groups.lock();
        let g = groups.get(group)?;
        let stable = g.state == State::Stable;
        // Kafka names the protocol only once the group is stable.
        let protocol = match stable {
            true => g.protocol.clone().unwrap_or_default(),
            false => String::new(),
        };
        let members = g
            .members
            .iter()
            .map(|m| {
                let meta = m
                    .protocols
                    .iter()
                    .find(|(n, _)| *n == protocol)
                    .map(|(_, b)| b.clone())
                    .filter(|_| stable)
                    .unwrap_or_default();
                let assignment = match stable {
                    true => m.assignment.clone(),
                    false => Bytes::new(),
                };
                let (id, inst) = (m.id.clone(), m.instance_id.clone());
                (
                    id,
                    inst,
                    m.client_id.clone(),
                    m.client_host.clone(),
                    meta,
                    assignment,
                )
            })
            .collect();
        Some(Described {
            state: g.state,
            protocol_type: g.protocol_type.clone().unwrap_or_default(),
            protocol,
            members,
        })
    }

    /// Deletes an empty group and its offsets.
    pub fn delete(&self, group: &str) -> Result<(), i16> {
        {
            let mut groups = self.groups.lock();
            match groups.get(group) {
                None => return Err(errors::GROUP_ID_NOT_FOUND),
                Some(g) if !g.members.is_empty() => return Err(errors::NON_EMPTY_GROUP),
                Some(_) => groups.remove(group),
            };
        }
        // The journal is written without holding up the other groups.
        self.offsets.delete_group(group).map_err(|e| {
            tracing::warn!(%group, error = %e, "a Kafka group's deletion was not written");
            self.groups
                .lock()
                .entry(group.to_string())
                .or_insert_with(Group::new);
            errors::COORDINATOR_NOT_AVAILABLE
        })
    }
}

/// A member removed: whatever it waits for is answered with `error`.
fn fence(m: Member, error: i16) {
    if let Some(tx) = m.joining {
        let _ = tx.send(failed(error));
    }
    if let Some(tx) = m.syncing {
        let _ = tx.send(Synced {
            error,
            ..Synced::default()
        });
    }
}

/// The join answer for `member_id` in the group's current generation.
fn joined(g: &Group, member_id: &str) -> Joined {
    let leader = g.leader.clone().unwrap_or_default();
    let protocol = g.protocol.clone().unwrap_or_default();
    let members = match leader == member_id {
        true => g
            .members
            .iter()
            .map(|m| {
                let meta = m.protocols.iter().find(|(n, _)| *n == protocol);
                let meta = meta.map(|(_, b)| b.clone()).unwrap_or_default();
                (m.id.clone(), m.instance_id.clone(), meta)
            })
            .collect(),
        false => Vec::new(),
    };
    Joined {
        error: errors::NONE,
        generation: g.generation,
        protocol_type: g.protocol_type.clone(),
        protocol: g.protocol.clone(),
        leader,
        member_id: member_id.to_string(),
        members,
    }
}

fn synced(g: &mut Group, member_id: &str) -> Synced {
    let (ptype, protocol) = (g.protocol_type.clone(), g.protocol.clone());
    Synced {
        error: errors::NONE,
        protocol_type: ptype,
        protocol,
        assignment: g
            .member(member_id)
            .map(|m| m.assignment.clone())
            .unwrap_or_default(),
    }
}

/// Completes a rebalance once every member has rejoined (or its deadline passed, without
/// those that have not): a new generation, its protocol and leader, every joiner answered.
fn complete_join(g: &mut Group, now: Instant) {
    if g.state != State::PreparingRebalance {
        return;
    }
    // A group that was empty waits out the initial delay for more members to come.
    if g.not_before.is_some_and(|t| now < t) {
        return;
    }
    let due = g.deadline.is_none_or(|d| now >= d);
    let all = g.members.iter().all(|m| m.joining.is_some()) && g.pending.is_empty();
    if !(all || due) {
        return;
    }
    let (kept, gone): (Vec<Member>, Vec<Member>) = std::mem::take(&mut g.members)
        .into_iter()
        .partition(|m| m.joining.is_some());
    g.members = kept;
    for m in gone {
        fence(m, errors::UNKNOWN_MEMBER_ID);
    }
    // Every member's session starts over with the new generation.
    for m in &mut g.members {
        m.seen = now;
    }
    g.pending.clear();
    g.deadline = None;
    g.not_before = None;
    g.generation += 1;
    if g.members.is_empty() {
        g.state = State::Empty;
        g.protocol = None;
        g.leader = None;
        return;
    }
    g.protocol = vote(&g.members);
    if !g.members.iter().any(|m| Some(&m.id) == g.leader.as_ref()) {
        g.leader = Some(g.members[0].id.clone());
    }
    g.state = State::CompletingRebalance;
    let ids: Vec<String> = g.members.iter().map(|m| m.id.clone()).collect();
    for id in ids {
        let answer = joined(g, &id);
        if let Some(tx) = g.member(&id).and_then(|m| m.joining.take()) {
            let _ = tx.send(answer);
        }
    }
}

/// The protocol every member supports that most members list first among those.
fn vote(members: &[Member]) -> Option<String> {
    let first = members.first()?;
    let common: Vec<&String> = first
        .protocols
        .iter()
        .map(|(n, _)| n)
        .filter(|n| {
            members
                .iter()
                .all(|m| m.protocols.iter().any(|(o, _)| o == *n))
        })
        .collect();
    let mut votes: Vec<(usize, &String)> = common.iter().map(|n| (0, *n)).collect();
    for m in members {
        if let Some((name, _)) = m.protocols.iter().find(|(n, _)| common.contains(&n)) {
            if let Some(v) = votes.iter_mut().find(|(_, c)| *c == name) {
                v.0 += 1;
            }
        }
    }
    // Most votes; among equals, the first member's preference.
    let best = votes.iter().map(|(n, _)| *n).max()?;
    votes
        .into_iter()
        .find(|(n, _)| *n == best)
        .map(|(_, name)| name.clone())
}

/// The answer of a reply, waited for; `stopped` when the broker stops first.
pub async fn wait<T>(b: &crate::Broker, reply: Reply<T>, stopped: T) -> T {
    let rx = match reply {
        Reply::Now(t) => return t,
        Reply::Later(rx) => rx,
    };
    let mut stop = b.stop.clone();
    tokio::select! {
        got = rx => got.unwrap_or(stopped),
        _ = stop.wait_for(|s| *s) => stopped,
    }
}

#[cfg(test)]
mod tests;
