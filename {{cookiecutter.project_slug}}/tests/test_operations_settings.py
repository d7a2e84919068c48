"""Settings of the day-two operations: how long API tokens live (config/settings.py,
config/env.py)."""


def test_the_token_lifetime_is_a_duration_or_never(load_settings):
    def lifetime(value):
        return load_settings({"TOKEN_LIFETIME": value}, ["TOKEN_LIFETIME"])

    assert lifetime("")["TOKEN_LIFETIME"] == "30 days, 0:00:00"
    assert lifetime("12h")["TOKEN_LIFETIME"] == "12:00:00"
    assert lifetime("never")["TOKEN_LIFETIME"] is None
    error = lifetime("a month")["error"].strip().splitlines()[-1]
    assert "TOKEN_LIFETIME must look like 3600, 90m, 12h, 30d or never, not 'a month'" in error
