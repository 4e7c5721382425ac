"""Monitor notifications: who is told, per severity and per priority."""

from __future__ import annotations

from infra.components.datadog_logs import notification_message

CRITICAL = ["@pagerduty-payments", "@slack-payments-alerts"]
WARNING = ["@slack-payments-warnings"]


def block(message: str, name: str) -> str | None:
    """The handles inside `{{#name}}…{{/name}}`, or None when the message has no such block."""
    opening, closing = f"{{{{#{name}}}}}", f"{{{{/{name}}}}}"
    if opening not in message:
        return None
    return message.split(opening, 1)[1].split(closing, 1)[0]


class TestWarningBlock:
    def test_no_warning_block_without_a_warning_threshold(self) -> None:
        """A monitor that cannot warn renders no warning or warning-recovery block."""
        message = notification_message("Body.", CRITICAL, WARNING, priority=1, warns=False)
        assert block(message, "is_warning") is None
        assert block(message, "is_warning_recovery") is None
        assert block(message, "is_alert") == " ".join(CRITICAL)

    def test_warning_block_with_a_warning_threshold(self) -> None:
        """A monitor that can warn notifies its warning handles on warning and on its recovery."""
        message = notification_message("Body.", CRITICAL, WARNING, priority=1, warns=True)
        assert block(message, "is_warning") == "@slack-payments-warnings"
        assert block(message, "is_warning_recovery") == "@slack-payments-warnings"


class TestPaging:
    def test_priority_one_and_two_page(self) -> None:
        """Priority 1 and 2 monitors page their PagerDuty handles on alert."""
        for priority in (1, 2):
            message = notification_message("Body.", CRITICAL, WARNING, priority=priority, warns=True)
            assert "@pagerduty-payments" in (block(message, "is_alert") or "")

    def test_lower_priorities_notify_the_warning_handles_instead(self) -> None:
        """Priority 3–5 (or none) never page: the alert goes to the other critical and the warning handles."""
        for priority in (3, 4, 5, None):
            message = notification_message("Body.", CRITICAL, WARNING, priority=priority, warns=True)
            assert "@pagerduty" not in message
            assert block(message, "is_alert") == "@slack-payments-alerts @slack-payments-warnings"

    def test_pagerduty_in_warning_handles_does_not_page_a_low_priority(self) -> None:
        """A PagerDuty handle among the warning handles of a priority 3 monitor is left out too."""
        message = notification_message("Body.", [], ["@pagerduty-x", "@slack-x"], priority=3, warns=True)
        assert "@pagerduty" not in message
        assert block(message, "is_alert") == "@slack-x"
