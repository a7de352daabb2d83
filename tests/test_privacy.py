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
