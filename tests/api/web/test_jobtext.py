"""A job's words in the page's language: the Provisioner's English progress messages and refusals, as the
pages translate them (details kept, plain words for a message they do not know)."""

from __future__ import annotations

import pytest

from api.web.i18n import translator
from api.web.jobtext import failure_reason, step_labels, step_text

ja, en = translator("ja"), translator("en")


@pytest.mark.parametrize(("step", "message", "japanese"), [
    ("find", "looking for HWTC-5EED0001 in autofind", "autofind（未登録 ONU の一覧）で HWTC-5EED0001 を探しています"),
    ("add", "adding HWTC-5EED0001 as ONT 4 on olt-chiyoda-1 0/1/3",
     "HWTC-5EED0001 を ONT 4 として登録しています（olt-chiyoda-1 0/1/3）"),
    ("service", "service port on VLAN 100", "VLAN 100 のサービスポートを設定しています"),
    ("save", "saving the configuration", "設定を保存しています"),
    ("verify", "waiting for the ONU to come up (SNMP)", "ONU の立ち上がりを待っています（SNMP で確認）"),
    ("activate", "marking the household active", "世帯を「利用中」にしています"),
    ("undo", "failed (verification failed: LOS); undoing", "失敗したため、変更を元に戻しています"),
    ("undo", "cleaning up the previous run's ONT 4 on olt-chiyoda-1 0/1/3",
     "前回の実行が残した ONT 4（olt-chiyoda-1 0/1/3）を片付けています"),
    ("suspend", "suspend ONT 4 on olt-chiyoda-1 0/1/3", "olt-chiyoda-1 0/1/3 の ONT 4：利用停止"),
    ("cancel", "cancel HH-000001", "回線を解約しています（ONU の設定を削除）"),
    ("something-new", "a message nobody translated", "処理中です"),
])  # fmt: skip
def test_the_provisioners_steps_in_japanese(step: str, message: str, japanese: str) -> None:
    assert step_text(ja, step, message) == japanese


def test_english_keeps_the_details_and_the_script_has_every_steps_words() -> None:
    assert step_text(en, "find", "looking for HWTC-5EED0001 in autofind") == "Looking for HWTC-5EED0001 in autofind"
    labels = step_labels(ja)
    assert labels["verify"] == "ONU の立ち上がりを待っています（SNMP で確認）" and labels["other"] == "処理中です"


@pytest.mark.parametrize(("message", "key"), [
    ("olt-chiyoda-1 refused 'ont add 0 1 sn-auth HWTC-1': Failure: SN already exists", "reason_refused"),
    ("ONU HWTC-0BADBEEF is not in the autofind list of olt-a, olt-b: is it plugged in and powered, and is the "
     "serial right?", "reason_not_in_autofind"),
    ("ONU HWTC-1 is already recorded on olt-a 0/1/0 id 3 for household HH-1", "reason_serial_taken"),
    ("verification failed: ONU not up after 60 s; nothing is left on olt-a; HH-1 stays installed", "reason_verify"),
    ("olt-a: session lost during 'save' (EOF)", "reason_unreachable"),
])  # fmt: skip
def test_why_a_run_failed_in_japanese(message: str, key: str) -> None:
    assert failure_reason(ja, message) == ja(key)
    assert failure_reason(ja, "something else entirely") is None and failure_reason(ja, None) is None
