"""Personal data is masked before anything is kept or shown."""

from rules.privacy import mask_personal_data


def test_id_numbers_in_free_text_are_masked():
    said = "张三身份证310101199001010252，李四11010519491231002x"
    masked = mask_personal_data(said)
    assert "310101199001010252" not in masked
    assert "3101**********0252" in masked
    assert "1101**********002X" in masked


def test_mobile_numbers_are_masked():
    assert mask_personal_data("电话13812345678") == "电话138****5678"


def test_full_width_digits_are_caught_too():
    assert "3101**********0252" in mask_personal_data("３１０１０１１９９００１０１０２５２")


def test_other_numbers_are_left_alone():
    assert mask_personal_data("账号31602300008022150，12351热线") == (
        "账号31602300008022150，12351热线"
    )
