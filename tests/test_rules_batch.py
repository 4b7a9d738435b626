"""参保状态说明: what a unit can do in each batch status."""

from rules.batch import lifecycle


def test_a_batch_can_be_deleted_only_before_validation_passes():
    lc = lifecycle()
    assert "delete_batch" in lc.allowed("roster_pending_validation")
    assert "delete_batch" in lc.allowed("validation_failed")
    assert "delete_batch" not in lc.allowed("voucher_pending")


def test_withdrawing_while_the_voucher_is_pending_returns_to_validation():
    assert lifecycle().after("voucher_pending", "withdraw") == ("roster_pending_validation",)


def test_after_the_voucher_is_uploaded_the_roster_cannot_be_edited():
    lc = lifecycle()
    assert lc.allowed("voucher_review") == ()
    assert lc.after("voucher_review", "edit_roster") == ()


def test_status_is_found_in_a_users_words():
    assert lifecycle().find("我们现在状态是缴费凭证待上传，能干嘛") == "voucher_pending"
    assert lifecycle().find("清册校验不通过怎么办") == "validation_failed"
