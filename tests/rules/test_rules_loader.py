"""Loading rules: every kind of bad YAML gets a finding at its exact position, and good YAML loads with
its positions remembered."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
import yaml

from logmon.diagnostics import Finding, Location, RulesInvalid, Severity
from logmon.rules import RuleSet, load_rules, parse_rules_text
from logmon.rules.loader import display_name
from logmon.rules.model import CategoryProcessor, Monitor, RulesFile, StatusRemapper
from logmon.rules.source import MAX_EXPANDED_NODES, LocatedDict, load_yaml_file, parse_yaml

WriteRules = Callable[[Mapping[str, str | bytes]], Path]

MONITOR = """\
monitors:
  payment_failures:
    name: "[logs] Payment failures"
    search: "@event_type:payment_completion @payment_status:failed"
    window: 5m
    threshold: {critical: 50, warning: 25, unit: per_minute}
    notify:
      critical: ["@pagerduty-payments"]
"""


def findings(text: str, file_name: str = "rules/monitors.yaml") -> list[Finding]:
    """The findings that loading `text` raises; fails the test when it loads."""
    with pytest.raises(RulesInvalid) as raised:
        parse_rules_text(text, file_name)
    return raised.value.findings


def location_of(text: str, needle: str, file_name: str = "rules/monitors.yaml", occurrence: int = 1) -> Location:
    """Where the `occurrence`-th `needle` starts in `text`."""
    offset = -1
    for _ in range(occurrence):
        offset = text.index(needle, offset + 1)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Location(file_name, line, column)


def at(text: str, needle: str, occurrence: int = 1) -> str:
    """`file:line:col` of a needle in a text loaded as rules/monitors.yaml."""
    return str(location_of(text, needle, occurrence=occurrence))


def summary(found: list[Finding]) -> list[tuple[str, str, str | None]]:
    return [(str(f.location), f.check, f.text) for f in found]


def only(found: list[Finding]) -> Finding:
    assert len(found) == 1, summary(found)
    return found[0]


class TestUnknownKeys:
    def test_misspelt_key_is_located_and_corrected(self) -> None:
        """A misspelt key is reported at the key itself, with the key it was probably meant to be."""
        text = MONITOR.replace("    search:", "    serach:")
        finding = only(findings(text))
        assert (str(finding.location), finding.check, finding.text) == (
            at(text, "serach"),
            "schema/unknown-key",
            "serach",
        )
        assert finding.message == "unknown key 'serach'; did you mean 'search'?"
        assert finding.severity is Severity.ERROR

    def test_misspelt_section_at_the_top_level(self) -> None:
        """A misspelt section name is reported at line 1 with the section it resembles."""
        finding = only(findings("monitor:\n  a: {}\n"))
        assert str(finding.location) == "rules/monitors.yaml:1:1"
        assert finding.message == "unknown key 'monitor'; did you mean 'monitors'?"

    def test_unrecognisable_key_lists_the_allowed_keys(self) -> None:
        """A key resembling nothing is answered with the keys that mapping accepts."""
        text = MONITOR.replace("unit: per_minute}", "unit: per_minute, zzz: 1}")
        finding = only(findings(text))
        assert str(finding.location) == at(text, "zzz")
        allowed = "comparator, critical, warning, unit, alert_on_single_log"
        assert finding.message == f"unknown key 'zzz'; allowed keys: {allowed}"

    def test_unknown_key_inside_a_processor(self) -> None:
        """Keys of a processor are checked against that processor type's own fields."""
        text = (
            "pipelines:\n"
            "  paylog:\n"
            "    name: paylog\n"
            "    processors:\n"
            "      - type: attribute_remapper\n"
            "        sources: [ip_address]\n"
            "        target: network.client.ip\n"
            "        preserve_sorce: true\n"
        )
        finding = only(findings(text))
        assert str(finding.location) == at(text, "preserve_sorce")
        assert finding.message == "unknown key 'preserve_sorce'; did you mean 'preserve_source'?"


class TestWrongTypes:
    def test_text_where_a_number_belongs(self) -> None:
        """A threshold written as a word is reported at the value, saying what was expected and what was read."""
        text = MONITOR.replace("critical: 50,", 'critical: "lots",')
        finding = only(findings(text))
        assert (str(finding.location), finding.check, finding.text) == (
            at(text, '"lots"'),
            "schema/type",
            "lots",
        )
        assert finding.message == "expected a number, got text 'lots'"

    def test_text_where_a_whole_number_belongs(self) -> None:
        """Types are strict: a quoted priority is not silently converted."""
        text = MONITOR + '    priority: "1"\n'
        finding = only(findings(text))
        assert str(finding.location) == at(text, '"1"')
        assert finding.message == "expected a whole number, got text '1'"

    def test_number_where_text_belongs(self) -> None:
        """An unquoted number as a name is a number to YAML, and the finding says so."""
        text = MONITOR.replace('name: "[logs] Payment failures"', "name: 404")
        finding = only(findings(text))
        assert str(finding.location) == at(text, "404")
        assert finding.message == "expected text, got a number 404"

    def test_yaml_boolean_where_a_list_belongs(self) -> None:
        """`yes` is a boolean in YAML; the message names the type YAML read."""
        text = MONITOR + "    tags: yes\n"
        finding = only(findings(text))
        assert str(finding.location) == at(text, "yes")
        assert finding.message == "expected a list, got a boolean True"

    def test_value_outside_a_literal_set(self) -> None:
        """A storage class that S3 does not have is reported at the value with the accepted ones."""
        text = (
            "retention:\n"
            "  hot: {days: 7}\n"
            "  warm: {days: 30}\n"
            "  cold:\n"
            "    transitions:\n"
            "      - {after_days: 30, storage_class: GLACIER_DEEP}\n"
            "  delete_after_days: 2557\n"
        )
        finding = only(findings(text))
        assert (str(finding.location), finding.check) == (at(text, "GLACIER_DEEP"), "schema/value")
        assert "'GLACIER_DEEP' is not accepted here" in finding.message
        assert "'DEEP_ARCHIVE'" in finding.message

    def test_every_wrong_value_is_reported_at_once(self) -> None:
        """One load reports every problem in the file, not just the first."""
        text = MONITOR.replace("critical: 50,", 'critical: "lots",') + '    priority: "high"\n    tags: yes\n'
        assert [str(f.location) for f in findings(text)] == [
            at(text, '"lots"'),
            at(text, '"high"'),
            at(text, "yes"),
        ]


class TestMissingKeys:
    def test_missing_key_is_reported_at_its_mapping_with_its_meaning(self) -> None:
        """A missing required key points at the mapping that lacks it and says what the key is for."""
        text = MONITOR.replace('    name: "[logs] Payment failures"\n', "")
        finding = only(findings(text))
        assert (str(finding.location), finding.check, finding.text) == (
            at(text, "search:"),
            "schema/missing-key",
            "name",
        )
        assert finding.message == "missing required key 'name' (The monitor's title in Datadog)"

    def test_missing_nested_key(self) -> None:
        """A threshold without `critical` is reported at the threshold mapping."""
        text = MONITOR.replace("{critical: 50, warning: 25, unit: per_minute}", "{warning: 25}")
        finding = only(findings(text))
        assert (str(finding.location), finding.check) == (at(text, "{warning"), "schema/missing-key")
        assert finding.message.startswith("missing required key 'critical'")

    def test_rule_level_requirement(self) -> None:
        """A monitor with a search but no window gets the rule's own explanation."""
        text = MONITOR.replace("    window: 5m\n", "")
        finding = only(findings(text))
        assert (str(finding.location), finding.check) == (at(text, "name:"), "schema/value")
        assert finding.message == "a monitor with `search` needs a `window` such as `5m`"


class TestDuplicateKeys:
    def test_plain_yaml_would_silently_keep_the_last(self) -> None:
        """The reason for the check: a YAML reader keeps the second of two equal keys without a word."""
        assert yaml.safe_load("threshold: 50\nthreshold: 500\n") == {"threshold": 500}

    def test_duplicate_key_is_reported_at_the_second_with_the_first_line(self) -> None:
        """The second occurrence is reported, naming the line of the first."""
        text = MONITOR.replace("    window: 5m\n", "    window: 5m\n    window: 15m\n")
        finding = only(findings(text))
        assert (str(finding.location), finding.check, finding.text) == (
            at(text, "window: 15m"),
            "yaml/duplicate-key",
            "window",
        )
        assert "already defined at line 5" in finding.message
        assert "silently keep only this one" in finding.message

    def test_duplicate_slug_within_one_file(self) -> None:
        """Two monitors with one slug in one file are a duplicate key of the `monitors` mapping."""
        text = MONITOR + MONITOR.split("\n", 1)[1]
        finding = only(findings(text))
        assert (str(finding.location), finding.check, finding.text) == (
            at(text, "payment_failures:", occurrence=2),
            "yaml/duplicate-key",
            "payment_failures",
        )

    def test_duplicate_keys_in_flow_mappings(self) -> None:
        """Flow mappings (`{...}`) are checked too."""
        text = MONITOR.replace("{critical: 50, warning: 25,", "{critical: 50, critical: 25,")
        finding = only(findings(text))
        assert (str(finding.location), finding.text) == (at(text, "critical: 25"), "critical")

    def test_merge_keys_are_not_duplicates(self) -> None:
        """Several `<<` merges in one mapping are YAML's merge syntax, not a repeated key."""
        text = "x-defaults: &window {window: 5m}\nx-notify: &notify {notify: {critical: ['@pagerduty-payments']}}\n"
        document = parse_yaml(text + "a:\n  <<: *window\n  <<: *notify\n", "f.yaml")
        assert document["a"] == {"window": "5m", "notify": {"critical": ["@pagerduty-payments"]}}


class TestDuplicatesAcrossFiles:
    def test_same_slug_in_two_files(self, write_rules: WriteRules) -> None:
        """A slug defined in two files is reported at the second, naming the first's position."""
        directory = write_rules({"a.yaml": MONITOR, "b.yaml": "# the same monitor again\n" + MONITOR})
        with pytest.raises(RulesInvalid) as raised:
            load_rules(directory)
        finding = only(raised.value.findings)
        first = Location(display_name(directory / "a.yaml"), 2, 3)
        assert finding.location == Location(display_name(directory / "b.yaml"), 3, 3)
        assert (finding.check, finding.text) == ("rules/duplicate-slug", "payment_failures")
        assert finding.message.startswith(f"monitor 'payment_failures' is already defined at {first}")

    def test_same_name_in_different_sections_is_fine(self, write_rules: WriteRules) -> None:
        """An index and an archive may share a name; slugs are unique per section."""
        directory = write_rules(
            {
                "indexes.yaml": "indexes:\n  security:\n    filter: '@event_category:security'\n",
                "archives.yaml": "archives:\n  security:\n    name: security audit\n",
            }
        )
        rules = load_rules(directory)
        assert list(rules.indexes) == ["security"]
        assert list(rules.archives) == ["security"]

    @pytest.mark.parametrize(
        ("section", "body"),
        [
            (
                "retention",
                "  hot: {days: 7}\n  warm: {days: 30}\n  cold: {transitions: []}\n  delete_after_days: 2557\n",
            ),
            (
                "sensitive_data",
                "  name: scanner\n  filter: '*'\n  rules:\n"
                "    cards: {name: cards, regex: '\\d{16}', replacement: {type: hash}}\n",
            ),
        ],
    )
    def test_single_sections_appear_once(self, write_rules: WriteRules, section: str, body: str) -> None:
        """`retention` and `sensitive_data` may each be written in one file only."""
        text = f"{section}:\n{body}"
        directory = write_rules({"a.yaml": text, "b.yaml": "# again\n" + text})
        with pytest.raises(RulesInvalid) as raised:
            load_rules(directory)
        finding = only(raised.value.findings)
        assert finding.location == Location(display_name(directory / "b.yaml"), 2, 1)
        assert (finding.check, finding.text) == ("rules/duplicate-section", section)
        assert f"already defined at {display_name(directory / 'a.yaml')}:1:1" in finding.message


class TestEmptyFiles:
    @pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "{}\n", "---\n"])
    def test_a_file_without_rules_is_a_finding(self, text: str) -> None:
        """An empty file, one with only comments, or an empty mapping holds no rules and says so at 1:1."""
        finding = only(findings(text))
        assert (str(finding.location), finding.check) == ("rules/monitors.yaml:1:1", "yaml/empty-file")
        assert "add a section such as `monitors:` or delete the file" in finding.message

    def test_a_section_without_entries_is_a_type_error(self) -> None:
        """`monitors:` with nothing under it is null, not an empty mapping."""
        finding = only(findings("monitors:\n"))
        assert (str(finding.location), finding.check) == ("rules/monitors.yaml:1:10", "schema/type")
        assert finding.message == "expected a mapping, got null"

    def test_an_empty_directory(self, tmp_path: Path) -> None:
        """A directory without rules files is one finding, not an empty rule set."""
        with pytest.raises(RulesInvalid) as raised:
            load_rules(tmp_path)
        finding = only(raised.value.findings)
        assert finding.check == "rules/no-files"
        assert "point --rules at the rules directory" in finding.message

    def test_a_missing_directory(self, tmp_path: Path) -> None:
        """A directory that does not exist is an OS-level error for the caller to report."""
        with pytest.raises(FileNotFoundError):
            load_rules(tmp_path / "nowhere")


class TestMalformedYaml:
    @pytest.mark.parametrize(
        ("text", "where", "problem"),
        [
            ("monitors:\n  a: [1, 2\n  b: 3\n", "3:4", "did not find expected ',' or ']'"),
            ('monitors:\n  a:\n    name: "unclosed\n', "4:1", "found unexpected end of stream"),
            ("monitors:\n\ta: 1\n", "2:1", "found character that cannot start any token"),
            ("monitors:\n  a: 1\n b: 2\n", "3:2", "did not find expected key"),
            ("monitors:\n  a: !!python/object:os.system {}\n", "2:6", "could not determine a constructor"),
        ],
    )
    def test_syntax_errors_point_at_the_problem(self, text: str, where: str, problem: str) -> None:
        """A syntax error is reported where the reader noticed it, with the reader's explanation."""
        finding = only(findings(text))
        assert (str(finding.location), finding.check) == (f"rules/monitors.yaml:{where}", "yaml/syntax")
        assert finding.message.startswith("malformed YAML: ")
        assert problem in finding.message
        tabs = "; YAML does not allow tabs for indentation; indent with spaces"
        assert finding.message.endswith(tabs if "\t" in text else "; fix the syntax here")

    def test_control_characters_are_refused(self) -> None:
        """Control characters are unreadable YAML, and the message names the character."""
        finding = only(findings('monitors:\n  a: "x\x07"\n'))
        assert finding.check == "yaml/syntax"
        assert "unacceptable character #x0007" in finding.message

    def test_an_impossible_date(self) -> None:
        """A value YAML reads as a date but that is no date is a finding, not a crash."""
        finding = only(findings("monitors:\n  a: 2024-13-45\n"))
        assert finding.check == "yaml/syntax"
        assert "month must be in 1..12" in finding.message


class TestNonStringKeys:
    @pytest.mark.parametrize(
        ("key", "read_as"),
        [
            ("yes", "key True is read as a boolean"),
            ("no", "key False is read as a boolean"),
            ("1", "key 1 is read as a number"),
            ("1.5", "key 1.5 is read as a number"),
            ("null", "key None is read as null"),
            ("2024-01-01", "key datetime.date(2024, 1, 1) is read as a date"),
        ],
    )
    def test_keys_yaml_reads_as_other_types(self, key: str, read_as: str) -> None:
        """Keys YAML turns into booleans, numbers, null or dates are reported at the key with 'quote it'."""
        finding = only(findings(f"indexes:\n  {key}:\n    filter: '*'\n"))
        assert (str(finding.location), finding.check) == ("rules/monitors.yaml:2:3", "yaml/non-string-key")
        assert finding.message == f"{read_as}, not text; quote it"

    def test_non_string_key_deep_inside(self) -> None:
        """A lookup table's keys are checked wherever they are."""
        text = (
            "pipelines:\n  p:\n    name: p\n    processors:\n      - type: lookup_processor\n"
            "        source: code\n        target: reason\n        lookup_table: {1: declined}\n"
        )
        finding = only(findings(text))
        assert (str(finding.location), finding.text) == (at(text, "1: declined"), "1")

    def test_quoted_keys_are_text(self) -> None:
        """Quoting a key keeps it text."""
        rules = parse_rules_text("indexes:\n  'yes':\n    filter: '*'\n  '1':\n    filter: '*'\n", "f.yaml")
        assert list(rules.indexes) == ["yes", "1"]


class TestDocumentShape:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("- monitors\n- indexes\n", "expected a mapping, got a list"),
            ("monitors\n", "expected a mapping, got text 'monitors'"),
            ("42\n", "expected a mapping, got a number 42"),
        ],
    )
    def test_the_top_level_is_a_mapping(self, text: str, message: str) -> None:
        """A file whose top level is not a mapping of sections is reported at 1:1."""
        finding = only(findings(text))
        assert (str(finding.location), finding.check, finding.message) == (
            "rules/monitors.yaml:1:1",
            "schema/type",
            message,
        )

    def test_unknown_processor_type(self) -> None:
        """A processor type we do not know (here a misspelt one) is reported at the processor with the types
        we know."""
        text = (
            "pipelines:\n  p:\n    name: p\n    processors:\n      - type: status_remapper\n"
            "        sources: [level]\n      - type: grok_parsr\n        match_rules: 'r %{data}'\n"
        )
        finding = only(findings(text))
        assert (str(finding.location), finding.check) == (at(text, "type: grok_parsr"), "schema/value")
        assert finding.message.startswith("unknown 'type' 'grok_parsr'; expected one of ")
        assert "'grok_parser'" in finding.message
        assert "'attribute_remapper'" in finding.message
        assert "'category_processor'" in finding.message

    def test_processor_without_a_type(self) -> None:
        """A processor must say which kind it is."""
        text = "pipelines:\n  p:\n    name: p\n    processors:\n      - sources: [level]\n"
        finding = only(findings(text))
        assert (str(finding.location), finding.check) == (at(text, "sources"), "schema/value")
        assert finding.message == "missing 'type'; say which kind this is"

    def test_several_documents_in_one_file(self) -> None:
        """A second `---` document is refused at its separator rather than silently ignored."""
        finding = only(findings("monitors: {}\n---\nindexes: {}\n"))
        assert (str(finding.location), finding.check) == ("rules/monitors.yaml:2:1", "yaml/syntax")
        assert "expected a single document in the stream but found another document" in finding.message

    def test_one_document_with_markers_loads(self) -> None:
        """Explicit start and end markers around a single document are fine."""
        assert isinstance(parse_rules_text("---\nindexes: {main: {}}\n...\n", "f.yaml"), RulesFile)


class TestEncoding:
    def test_non_utf8_bytes_are_a_finding(self, write_rules: WriteRules) -> None:
        """A file saved in Latin-1 is reported at its first bad byte, alongside the other files' problems."""
        directory = write_rules(
            {
                "a.yaml": "indexes:\n  caf\xe9: {}\n".encode("latin-1"),
                "b.yaml": "indexes:\n  main: {filter: 42}\n",
            }
        )
        with pytest.raises(RulesInvalid) as raised:
            load_rules(directory)
        first, second = raised.value.findings
        assert first.location == Location(display_name(directory / "a.yaml"), 2, 6)
        assert first.check == "yaml/syntax"
        assert first.message == "not UTF-8 text (invalid continuation byte at byte 14); save the file as UTF-8"
        assert (second.check, second.location.line) == ("schema/type", 2)

    def test_single_file_reader_reports_the_same(self, tmp_path: Path) -> None:
        """`load_yaml_file` turns undecodable bytes into the same finding."""
        path = tmp_path / "x.yaml"
        path.write_bytes(b"\xff\xfe\x00m\x00o")
        with pytest.raises(RulesInvalid) as raised:
            load_yaml_file(path, "rules/x.yaml")
        finding = only(raised.value.findings)
        assert (str(finding.location), finding.check) == ("rules/x.yaml:1:1", "yaml/syntax")
        assert "save the file as UTF-8" in finding.message

    def test_a_byte_order_mark_is_accepted(self, write_rules: WriteRules) -> None:
        """A UTF-8 file that starts with a byte order mark loads."""
        directory = write_rules({"a.yaml": "\ufeffindexes:\n  main: {}\n"})
        assert list(load_rules(directory).indexes) == ["main"]


class TestAliasBomb:
    BOMB = "".join(
        f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
        for previous, name in zip("abcdefg", "bcdefgh", strict=True)
    )

    def test_exponential_expansion_is_refused(self) -> None:
        """Nine aliases per level over eight levels (43 million values) is refused, not expanded."""
        text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + self.BOMB
        finding = only(findings(text))
        assert (str(finding.location), finding.check) == ("rules/monitors.yaml:1:1", "yaml/too-large")
        assert f"more than {MAX_EXPANDED_NODES} values through aliases" in finding.message

    def test_modest_aliases_are_fine(self) -> None:
        """Anchors reused a few times, say for shared notification handles, load normally."""
        text = MONITOR.replace(
            '    notify:\n      critical: ["@pagerduty-payments"]\n',
            '    notify: &payments\n      critical: ["@pagerduty-payments"]\n',
        )
        text += (
            text.split("\n", 1)[1]
            .replace("payment_failures:", "payment_failures_eu:")
            .replace('    notify: &payments\n      critical: ["@pagerduty-payments"]\n', "    notify: *payments\n")
            .replace("Payment failures", "Payment failures (EU)")
        )
        rules = parse_rules_text(text, "f.yaml")
        assert rules.monitors["payment_failures_eu"].notify.critical == ["@pagerduty-payments"]


class TestGoodInput:
    def test_monitor_fields_are_read(self) -> None:
        """A valid monitor loads with its values and defaults."""
        monitor = parse_rules_text(MONITOR, "rules/monitors.yaml").monitors["payment_failures"]
        assert isinstance(monitor, Monitor)
        assert monitor.search == "@event_type:payment_completion @payment_status:failed"
        assert (monitor.window, monitor.rollup, monitor.indexes) == ("5m", "count", ["*"])
        assert (monitor.threshold.critical, monitor.threshold.warning, monitor.threshold.unit) == (
            50,
            25,
            "per_minute",
        )
        assert monitor.notify.critical == ["@pagerduty-payments"]

    def test_positions_are_remembered(self) -> None:
        """Every model knows where it and each of its fields were written."""
        monitor = parse_rules_text(MONITOR, "rules/monitors.yaml").monitors["payment_failures"]
        assert monitor.where() == location_of(MONITOR, "name:") == Location("rules/monitors.yaml", 3, 5)
        assert monitor.where("search") == location_of(MONITOR, '"@event_type') == Location("rules/monitors.yaml", 4, 13)
        assert monitor.where("window") == location_of(MONITOR, "5m")
        assert monitor.threshold.where() == location_of(MONITOR, "{critical")
        assert monitor.threshold.where("warning") == location_of(MONITOR, "25")
        assert monitor.notify.where("critical") == location_of(MONITOR, '["@pagerduty')
        assert monitor.notify.item_where("critical", 0) == location_of(MONITOR, '"@pagerduty')

    def test_fields_left_to_their_default_point_at_their_model(self) -> None:
        """A field not written in the file falls back to the position of the mapping it belongs to."""
        monitor = parse_rules_text(MONITOR, "rules/monitors.yaml").monitors["payment_failures"]
        assert monitor.where("priority") == monitor.where() == Location("rules/monitors.yaml", 3, 5)
        assert monitor.item_where("indexes", 0) == monitor.where()

    def test_processors_of_each_type(self) -> None:
        """Processors are read into the model of their `type`, with positions of list items."""
        text = (
            "pipelines:\n  paylog:\n    name: paylog\n    processors:\n"
            "      - type: status_remapper\n        sources: [level, severity]\n"
            "      - type: category_processor\n        target: event_category\n        categories:\n"
            "          - {name: security, filter: '@event_type:security_incident'}\n"
        )
        pipeline = parse_rules_text(text, "p.yaml").pipelines["paylog"]
        status, category = pipeline.processors
        assert isinstance(status, StatusRemapper)
        assert isinstance(category, CategoryProcessor)
        assert status.item_where("sources", 1) == location_of(text, "severity", "p.yaml")
        assert category.categories[0].where("filter") == location_of(text, "'@event_type", "p.yaml")

    def test_the_located_document_keeps_key_positions(self) -> None:
        """The raw document knows each key's and each value's position."""
        document = parse_yaml(MONITOR, "m.yaml")
        assert isinstance(document, LocatedDict)
        monitors = document["monitors"]
        assert monitors.key_locations["payment_failures"] == Location("m.yaml", 2, 3)
        assert monitors["payment_failures"].value_locations["window"] == Location("m.yaml", 5, 13)

    def test_shipped_rules_load_with_positions_in_their_files(self, shipped_rules: Path) -> None:
        """Each shipped monitor's `search` position lands on the line of its `search:` key."""
        rules = load_rules(shipped_rules)
        assert isinstance(rules, RuleSet)
        assert rules.monitors, "the shipped rules define monitors"
        for slug, monitor in rules.monitors.items():
            location = monitor.where("search" if monitor.search is not None else "query")
            line = Path(location.file).read_text(encoding="utf-8").splitlines()[location.line - 1]
            assert line.lstrip().startswith(("search:", "query:")), (slug, location, line)
            key_location = rules.slug_location("monitors", slug)
            key_line = Path(key_location.file).read_text(encoding="utf-8").splitlines()[key_location.line - 1]
            assert key_line[key_location.column - 1 :].startswith(f"{slug}:")

    def test_files_are_merged_in_name_order(self, write_rules: WriteRules) -> None:
        """Index order, which decides where a log goes, follows file names and then the order in each file."""
        directory = write_rules(
            {
                "b.yaml": "indexes:\n  main: {filter: '*'}\n",
                "a.yaml": (
                    "indexes:\n  security: {filter: '@event_category:security'}\n  debug: {filter: 'status:debug'}\n"
                ),
                "notes.txt": "not a rules file",
            }
        )
        rules = load_rules(directory)
        assert list(rules.indexes) == ["security", "debug", "main"]
        assert [Path(name).name for name in rules.files] == ["a.yaml", "b.yaml"]


class TestTabs:
    def test_a_tab_indent_says_to_use_spaces(self) -> None:
        """Indenting with a tab is a syntax error at the tab that says YAML wants spaces."""
        with pytest.raises(RulesInvalid) as raised:
            parse_rules_text("monitors:\n\tslug: 1\n", "rules/m.yaml")
        (finding,) = raised.value.findings
        assert (finding.check, finding.location.line, finding.location.column) == ("yaml/syntax", 2, 1)
        assert finding.message.endswith("YAML does not allow tabs for indentation; indent with spaces")


class TestSyntaxHints:
    def test_a_dedented_line_is_reported_on_its_own_line(self) -> None:
        """A line without `key:` that YAML folds into the value above is reported there, not at the next key."""
        text = "monitors:\n  a:\n    name: x\n  b:\n   name z\n    window: 5m\n"
        finding = only(findings(text))
        assert (finding.check, str(finding.location)) == ("yaml/syntax", "rules/monitors.yaml:5:4")
        assert "indent it like its siblings and write `key: value`" in finding.message

    def test_an_unquoted_attribute_search_says_to_quote_it(self) -> None:
        """`search: @…` unquoted is a syntax error at the `@` whose hint is to quote the value."""
        finding = only(findings("monitors:\n  a:\n    name: x\n    search: @event_type:security_incident\n"))
        assert (finding.check, str(finding.location)) == ("yaml/syntax", "rules/monitors.yaml:4:13")
        assert "must be quoted" in finding.message
        assert 'search: "@event_type:' in finding.message

    def test_an_ordinary_error_keeps_the_generic_hint(self) -> None:
        """Errors the hints do not cover keep the reader's position and `fix the syntax here`."""
        finding = only(findings("monitors:\n  a: 1\n b: 2\n"))
        assert str(finding.location) == "rules/monitors.yaml:3:2"
        assert finding.message.endswith("; fix the syntax here")
