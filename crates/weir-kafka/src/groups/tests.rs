use super::*;

fn coordinator() -> Coordinator {
    Coordinator::open(None, Duration::ZERO).unwrap()
}

fn join(c: &Coordinator, member: &str, protocols: &[&str]) -> Reply<Joined> {
    c.join(Join {
        group: "g".into(),
        member_id: member.into(),
        instance_id: None,
        client_id: "cli".into(),
        client_host: "/127.0.0.1".into(),
        session: Duration::from_secs(10),
        rebalance: Duration::from_secs(30),
        protocol_type: "consumer".into(),
        protocols: protocols
            .iter()
            .map(|p| (p.to_string(), Bytes::from(format!("meta-{member}"))))
            .collect(),
        id_required: true,
    })
}

fn now<T>(r: Reply<T>) -> T {
    match r {
        Reply::Now(t) => t,
        Reply::Later(mut rx) => rx.try_recv().expect("answered at once"),
    }
}

fn later<T>(r: Reply<T>) -> oneshot::Receiver<T> {
    match r {
        Reply::Later(rx) => rx,
        Reply::Now(_) => panic!("answered at once"),
    }
}

#[test]
fn two_members_join_sync_and_rebalance_when_one_leaves() {
    let c = coordinator();
    // v4+: a new member first gets its id.
    let first = now(join(&c, "", &["range"]));
    assert_eq!(first.error, errors::MEMBER_ID_REQUIRED);
    let a = first.member_id;
    let ja = now(join(&c, &a, &["range", "roundrobin"]));
    assert_eq!(
        (ja.error, ja.generation, ja.leader.as_str()),
        (0, 1, a.as_str())
    );
    assert_eq!(ja.protocol.as_deref(), Some("range"));
    let sa = now(c.sync("g", 1, &a, (None, None), vec![(a.clone(), "A1".into())]));
    assert_eq!(&sa.assignment[..], b"A1");
    assert_eq!(c.heartbeat("g", 1, &a), errors::NONE);

    // A second member: the group rebalances; the first learns it from its heartbeat.
    let b = now(join(&c, "", &["roundrobin", "range"])).member_id;
    let mut jb = later(join(&c, &b, &["roundrobin", "range"]));
    assert!(
        jb.try_recv().is_err(),
        "waits for the first member to rejoin"
    );
    assert_eq!(c.heartbeat("g", 1, &a), errors::REBALANCE_IN_PROGRESS);
    let ja = now(join(&c, &a, &["range", "roundrobin"]));
    let jb = jb.try_recv().unwrap();
    assert_eq!((ja.generation, jb.generation), (2, 2));
    assert_eq!(ja.members.len(), 2, "the leader sees every member");
    assert!(jb.members.is_empty());
    // Follower waits for the leader's assignment.
    let mut sb = later(c.sync("g", 2, &b, (None, None), vec![]));
    assert!(sb.try_recv().is_err());
    let assign = vec![(a.clone(), "A".into()), (b.clone(), "B".into())];
    let sa = now(c.sync("g", 2, &a, (None, None), assign));
    assert_eq!(
        (&sa.assignment[..], &sb.try_recv().unwrap().assignment[..]),
        (&b"A"[..], &b"B"[..])
    );
    assert_eq!(c.heartbeat("g", 1, &b), errors::ILLEGAL_GENERATION);

    // The leader leaves: b rejoins alone and leads generation 3.
    assert_eq!(c.leave("g", &[(a.clone(), None)]), vec![errors::NONE]);
    assert_eq!(c.heartbeat("g", 2, &b), errors::REBALANCE_IN_PROGRESS);
    let jb = now(join(&c, &b, &["roundrobin", "range"]));
    assert_eq!((jb.generation, jb.leader.as_str()), (3, b.as_str()));
    assert_eq!(jb.protocol.as_deref(), Some("roundrobin"));
    assert_eq!(c.describe("g").unwrap().state, State::CompletingRebalance);
}

#[test]
fn a_silent_member_expires_and_the_rest_rebalance() {
    let c = coordinator();
    let a = now(join(&c, "", &["range"])).member_id;
    now(join(&c, &a, &["range"]));
    now(c.sync("g", 1, &a, (None, None), vec![]));
    let b = now(join(&c, "", &["range"])).member_id;
    let mut jb = later(join(&c, &b, &["range"]));
    // a never rejoins: past its rebalance timeout the rebalance completes without it.
    c.tick(Instant::now() + Duration::from_secs(31));
    let jb = jb.try_recv().unwrap();
    assert_eq!(
        (jb.generation, jb.leader.as_str(), jb.members.len()),
        (2, b.as_str(), 1)
    );
    assert_eq!(c.heartbeat("g", 2, &a), errors::UNKNOWN_MEMBER_ID);
    // b goes silent past its session: the group empties.
    now(c.sync("g", 2, &b, (None, None), vec![]));
    c.tick(Instant::now() + Duration::from_secs(11));
    assert_eq!(c.describe("g").unwrap().state, State::Empty);
    assert_eq!(c.may_commit("g", -1, ""), Ok(()));
}

#[test]
fn refusals() {
    let c = coordinator();
    assert_eq!(
        now(join(&c, "nobody", &["range"])).error,
        errors::UNKNOWN_MEMBER_ID
    );
    let a = now(join(&c, "", &["range"])).member_id;
    now(join(&c, &a, &["range"]));
    // No protocol in common with the group.
    let b = now(join(&c, "", &["sticky"]));
    assert_eq!(b.error, errors::INCONSISTENT_GROUP_PROTOCOL);
    // Member and generation are checked before the group's state (Kafka's order).
    assert_eq!(
        c.may_commit("g", 1, "nobody"),
        Err(errors::UNKNOWN_MEMBER_ID)
    );
    assert_eq!(c.may_commit("g", 1, &a), Err(errors::REBALANCE_IN_PROGRESS));
    // A joiner with a made-up id creates no group.
    let ghost = c.join(Join {
        group: "ghost".into(),
        member_id: "made-up".into(),
        instance_id: None,
        client_id: "cli".into(),
        client_host: "/127.0.0.1".into(),
        session: Duration::from_secs(10),
        rebalance: Duration::from_secs(30),
        protocol_type: "consumer".into(),
        protocols: vec![("range".into(), Bytes::new())],
        id_required: true,
    });
    assert_eq!(now(ghost).error, errors::UNKNOWN_MEMBER_ID);
    assert!(c.describe("ghost").is_none());
    now(c.sync("g", 1, &a, (None, None), vec![]));
    assert_eq!(
        c.may_commit("g", 1, "nobody"),
        Err(errors::UNKNOWN_MEMBER_ID)
    );
    assert_eq!(c.may_commit("g", 7, &a), Err(errors::ILLEGAL_GENERATION));
    assert_eq!(c.may_commit("g", 1, &a), Ok(()));
    assert_eq!(c.delete("g"), Err(errors::NON_EMPTY_GROUP));
    assert_eq!(c.delete("other"), Err(errors::GROUP_ID_NOT_FOUND));
    assert_eq!(
        c.may_commit("other", 3, ""),
        Err(errors::ILLEGAL_GENERATION)
    );
}

#[test]
fn a_protocol_must_be_common_to_every_member() {
    let c = coordinator();
    let a = now(join(&c, "", &["x", "y"])).member_id;
    now(join(&c, &a, &["x", "y"]));
    now(c.sync("g", 1, &a, (None, None), vec![]));
    let b = now(join(&c, "", &["y", "z"])).member_id;
    let _jb = later(join(&c, &b, &["y", "z"]));
    // {x, z} shares a protocol with each member but none with both.
    assert_eq!(
        now(join(&c, "", &["x", "z"])).error,
        errors::INCONSISTENT_GROUP_PROTOCOL
    );
}
