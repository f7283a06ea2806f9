use super::*;

fn checklist() -> Checklist {
    Checklist::for_tests(vec![
        CheckItem::new(
            CheckId::Migrations,
            CheckStatus::Manual,
            "tick".into(),
            vec![],
        ),
        CheckItem::new(CheckId::Health, CheckStatus::Fail, "502".into(), vec![]),
    ])
}

fn change(item: CheckId, change: ItemChange) -> ChecklistChange {
    ChecklistChange {
        checklist: "verify-1".into(),
        item,
        by: Actor {
            user: "ops".into(),
            key_fingerprint: Some("SHA256:k".into()),
        },
        at: "t2".into(),
        change,
    }
}

#[test]
fn ticks_pass_manual_items_and_waivers_need_a_reason_and_a_failure() {
    let mut list = checklist();
    list.apply(&change(CheckId::Migrations, ItemChange::Tick));
    let item = list.item(CheckId::Migrations).unwrap();
    assert_eq!(item.status, CheckStatus::Pass);
    assert_eq!(item.ticked_by.as_deref(), Some("ops (SHA256:k)"));

    // A failure cannot be ticked, nor waived without a reason.
    assert!(list
        .check_change(CheckId::Health, &ItemChange::Tick)
        .is_err());
    let short = ItemChange::Waive {
        reason: "ok".into(),
    };
    assert!(list.check_change(CheckId::Health, &short).is_err());
    for unfit in [
        "Accepted for now\n✔ Passed  health  fake row",
        "Accepted \u{1b}[2J for now",
        &"a very long reason ".repeat(40),
    ] {
        let waive = ItemChange::Waive {
            reason: unfit.to_string(),
        };
        assert!(
            list.check_new_change(CheckId::Health, &waive).is_err(),
            "{unfit}"
        );
        // One recorded by an earlier version still reads back.
        assert!(
            list.check_change(CheckId::Health, &waive).is_ok(),
            "{unfit}"
        );
    }
    list.apply(&change(CheckId::Health, short));
    assert_eq!(
        list.item(CheckId::Health).unwrap().status,
        CheckStatus::Fail
    );
    assert!(list.failed());

    let reason = ItemChange::Waive {
        reason: "Known 502 during the maintenance window".into(),
    };
    list.apply(&change(CheckId::Health, reason));
    assert_eq!(
        list.item(CheckId::Health).unwrap().status,
        CheckStatus::Waived
    );
    assert!(!list.failed());

    list.apply(&change(CheckId::Health, ItemChange::Untick));
    assert_eq!(
        list.item(CheckId::Health).unwrap().status,
        CheckStatus::Fail
    );
}

#[test]
fn evidence_hash_is_of_the_output_as_stored() {
    let evidence = Evidence::new("true".into(), Some(0), "t".into(), 1, "abc".into());
    assert_eq!(
        evidence.sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn a_rerun_says_who_ran_it_and_when_and_a_record_from_before_reads_as_never_rerun() {
    let mut list = checklist();
    let mut tick = change(CheckId::Migrations, ItemChange::Tick);
    tick.at = "t1".into();
    list.apply(&tick);
    let again = CheckItem::new(
        CheckId::Migrations,
        CheckStatus::Manual,
        "new".into(),
        vec![],
    );
    list.apply(&change(
        CheckId::Migrations,
        ItemChange::Rerun {
            item: Box::new(again),
        },
    ));
    let item = list.item(CheckId::Migrations).unwrap();
    assert_eq!(item.rerun_by.as_deref(), Some("ops (SHA256:k)"));
    assert_eq!(item.rerun_at.as_deref(), Some("t2"));
    // The new results stand alone: the tick was for the old ones.
    assert_eq!((item.note.as_str(), item.ticked_by.as_ref()), ("new", None));

    let mut old = serde_json::to_value(item).unwrap();
    let fields = old.as_object_mut().unwrap();
    fields.remove("rerun_by");
    fields.remove("rerun_at");
    let read: CheckItem = serde_json::from_value(old).unwrap();
    assert_eq!((read.rerun_by, read.rerun_at), (None, None));
}

#[test]
fn a_rerun_reads_back_as_written_and_as_earlier_versions_wrote_it() {
    let new = CheckItem::new(CheckId::Health, CheckStatus::Pass, "200".into(), vec![]);
    let rerun = change(
        CheckId::Health,
        ItemChange::Rerun {
            item: Box::new(new.clone()),
        },
    );
    let entry = crate::journal::Entry::ChecklistChanged(rerun.clone());
    let written = serde_json::to_string(&entry).unwrap();
    assert_eq!(written.matches("\"item\"").count(), 1, "{written}");
    let read: crate::journal::Entry = serde_json::from_str(&written).unwrap();
    assert_eq!(read, entry);

    // As earlier versions wrote it: the results under a second `item`.
    let old = written.replace("\"result\":", "\"item\":");
    let read: crate::journal::Entry = serde_json::from_str(&old).unwrap();
    assert_eq!(read, entry);
    // The other changes read as they always did.
    let tick =
        crate::journal::Entry::ChecklistChanged(change(CheckId::Migrations, ItemChange::Tick));
    let read: crate::journal::Entry =
        serde_json::from_str(&serde_json::to_string(&tick).unwrap()).unwrap();
    assert_eq!(read, tick);
}
