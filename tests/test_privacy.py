from hotline.privacy import mask_name, mask_phone


def test_phone_keeps_first_three_and_last_four_digits() -> None:
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("02887654321") == "028****4321"
    assert mask_phone(" 13800001111 ") == "138****1111"


def test_short_numbers_never_show_more_than_four_digits() -> None:
    assert mask_phone("1234") == "****"
    assert mask_phone("110") == "***"
    assert mask_phone("1234567") == "***4567"
    assert mask_phone("") == ""


def test_name_keeps_family_name_only() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "李*"
    assert mask_name("  ") == ""


def test_numbers_in_another_systems_text_are_masked() -> None:
    from hotline.privacy import mask_numbers_in

    assert mask_numbers_in("号码13812345678无效") == "号码138****5678无效"
    assert mask_numbers_in("HTTP 400: +8613812345678 unknown") == "HTTP 400: +86*******5678 unknown"
    assert mask_numbers_in("02887654321 停机") == "028****4321 停机"
    # Not an order number, a message id or a status code: only runs that stand alone and are phone-sized.
    assert mask_numbers_in("工单 5101002026113000001 id 42 状态 503") == "工单 5101002026113000001 id 42 状态 503"
