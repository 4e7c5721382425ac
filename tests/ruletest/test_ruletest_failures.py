"""Rule changes that break a shipped case make it fail with the case, the expectation's position, expected and got."""

from __future__ import annotations

from ruletest_testing import ProjectCopy, edit, line_of, run_main

from logmon.ruletest import run_tests


class TestThresholdChange:
    def test_raising_the_critical_threshold_fails_the_firing_case(self, project_copy: ProjectCopy) -> None:
        """payment_failures at 60 a minute no longer alerts on 251 failures; the output says so, where and why."""
        rules = project_copy({})
        edit(rules / "monitors.yaml", "      critical: 50\n", "      critical: 60\n")
        status, output = run_main(rules, run="^payments/")
        tests = rules / "tests" / "payments.yaml"
        line = line_of(tests, "{monitor: payment_failures, at: 5m, state: alert, value: 251}")
        assert status == 1
        assert "FAIL payments/fires_just_above_the_threshold" in output
        assert (
            f"{tests}:{line}:54: payment_failures at 5m: expected alert with value 251, got warn "
            "(value 251, critical > 300, warning > 125)"
        ) in output
        assert output.endswith(" failed\n")
        assert output.splitlines()[-1] == "7 passed, 2 failed"

    def test_lowering_the_threshold_fails_the_quiet_case(self, project_copy: ProjectCopy) -> None:
        """At 40 a minute, exactly 250 failures alert, and the case that expected a warning fails."""
        rules = project_copy({})
        edit(rules / "monitors.yaml", "      critical: 50\n", "      critical: 40\n")
        report = run_tests(rules, run="^payments/warns_at_the_threshold$")
        [case] = report.cases
        [failure] = case.failures
        assert failure.message == (
            "payment_failures at 5m: expected warn with value 250, got alert (value 250, critical > 200, warning > 125)"
        )
        assert failure.location.line == line_of(rules / "tests" / "payments.yaml", "state: warn, value: 250}")

    def test_a_per_window_unit_fails_the_per_minute_cases(self, project_copy: ProjectCopy) -> None:
        """Forgetting `unit: per_minute` makes 50 mean 50 per window, and the quiet cases alert."""
        rules = project_copy({})
        edit(
            rules / "monitors.yaml",
            "      unit: per_minute\n      critical: 50\n",
            "      critical: 50\n",
        )
        report = run_tests(rules, run="^payments/quiet_at_the_warning$")
        [case] = report.cases
        assert [f.message for f in case.failures] == [
            "payment_failures at 5m: expected ok with value 125, got alert (value 125, critical > 50, warning > 25)"
        ]


class TestQueryChange:
    def test_counting_reviews_as_blocks_fails_the_fraud_cases(self, project_copy: ProjectCopy) -> None:
        """`@action:review` in place of `@action:block` fails the firing case and the reviews-are-not-blocks case."""
        rules = project_copy({})
        edit(rules / "monitors.yaml", "@action:block", "@action:review")
        status, output = run_main(rules, run="^fraud/")
        tests = rules / "tests" / "fraud.yaml"
        firing = line_of(tests, "{monitor: fraud_blocks, at: 5m, state: alert, value: 51}")
        quiet_entry = line_of(tests, "quiet: [fraud_blocks, high_error_rate]")
        assert status == 1
        assert "FAIL fraud/fires_just_above_the_threshold" in output
        assert (
            f"{tests}:{firing}:50: fraud_blocks at 5m: expected alert with value 51, got ok "
            "(value 0, critical > 50, warning > 25)"
        ) in output
        assert "FAIL fraud/reviews_are_not_blocks" in output
        assert (
            f"{tests}:{quiet_entry}:15: fraud_blocks should stay ok, but was alert at 1m "
            "(value 120, critical > 50, warning > 25)"
        ) in output
        assert output.splitlines()[-1] == "0 passed, 4 failed"

    def test_a_tag_lookup_instead_of_an_attribute_matches_nothing(self, project_copy: ProjectCopy) -> None:
        """`event_type:` without `@` is a tag lookup; the firing case sees a count of 0."""
        rules = project_copy({})
        edit(rules / "monitors.yaml", '"@event_type:security_incident"', '"event_type:security_incident"')
        report = run_tests(rules, run="^security/fires_on_a_single_incident$")
        [case] = report.cases
        assert [f.message for f in case.failures] == [
            "security_incidents at 2m: expected alert with value 1, got ok (value 0, critical >= 1)"
        ]

    def test_an_index_filter_change_fails_routing(self, project_copy: ProjectCopy) -> None:
        """Routing security events by a misspelt category sends them to `main`, and the routing case says so."""
        rules = project_copy({})
        edit(rules / "indexes.yaml", '"@event_category:security"', '"@event_category:securty"')
        report = run_tests(rules, run="^routing/security_events_go_to_the_security_index$")
        [case] = report.cases
        assert "stream 'logins': expected every line in index security, got index main: 40" in [
            f.message for f in case.failures
        ]

    def test_a_metric_group_by_change_fails_the_metric_case(self, project_copy: ProjectCopy) -> None:
        """A metric no longer grouped by currency cannot be read per currency: the tagged series comes back empty."""
        rules = project_copy({})
        edit(rules / "metrics.yaml", 'group_by: ["@currency", "@payment_method"]', 'group_by: ["@payment_method"]')
        status, output = run_main(rules, run="^metrics/payment_attempts")
        assert status == 2
        assert "metric 'logs.payment.attempts' has no tag 'currency'; its tags are payment_method" in output

    def test_a_sample_rate_change_fails_the_exact_sampling_counts(self, project_copy: ProjectCopy) -> None:
        """Keeping 20 % instead of 10 % in prod changes the exact counts the routing case asserts."""
        rules = project_copy({})
        edit(
            rules / "indexes.yaml",
            'sample_rate: 0.9\n        sample_attribute: "@correlation_id"',
            'sample_rate: 0.8\n        sample_attribute: "@correlation_id"',
        )
        report = run_tests(rules, run="^routing/routine_lines_are_sampled_in_prod$")
        [case] = report.cases
        messages = [f.message for f in case.failures]
        assert len(messages) == 6
        assert all(" excluded (" in message and "by sample-routine)" in message for message in messages)
