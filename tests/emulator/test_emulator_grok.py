"""The grok parser against Datadog's documented examples: each matcher and filter, with its source per case."""

from __future__ import annotations

import contextlib
from typing import Any, NamedTuple

import pytest
from emulator_testing import compile_filter, record
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from logmon.emulator.grok.compiler import GrokCompileError, compile_grok
from logmon.emulator.processors import compile_processor
from logmon.rules import model

PARSING = "https://docs.datadoghq.com/logs/log_configuration/parsing/"
"""DataDog/documentation `content/en/logs/log_configuration/parsing.md`."""
GROK_PROCESSOR = "https://docs.datadoghq.com/logs/log_configuration/processors/grok_parser/"
URL_PARSER = "https://docs.datadoghq.com/logs/log_configuration/processors/url_parser/"
USER_AGENT_PARSER = "https://docs.datadoghq.com/logs/log_configuration/processors/user_agent_parser/"
VRL_GROK = "vectordotdev/vrl lib/datadog/grok (Datadog's grok library), parse_grok tests"


class Case(NamedTuple):
    rule: str
    text: str
    expected: dict[str, Any] | None
    """What the rule extracts; None when it must not match."""
    source: str


CHICAGO_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/118.0.5993.90 Safari/537.36"
)

MATCHERS: dict[str, Case] = {
    "word and date": Case(
        'MyParsingRule %{word:user} connected on %{date("MM/dd/yyyy"):date}',
        "john connected on 11/08/2017",
        {"user": "john", "date": 1510099200000},
        f"{PARSING} Overview (the example log; the date read in UTC)",
    ),
    "date HH:mm:ss": Case(
        'r %{date("HH:mm:ss"):date}', "14:20:15", {"date": 51615000}, f"{PARSING} Parsing dates, row 1"
    ),
    "date hh:mm:ss a": Case(
        'r %{date("hh:mm:ss a"):date}', "02:20:15 PM", {"date": 51615000}, f"{PARSING} Parsing dates, row 2"
    ),
    "date EEE MMM dd": Case(
        'r %{date("EEE MMM dd HH:mm:ss yyyy"):date}',
        "Thu Jun 16 08:29:03 2016",
        {"date": 1466065743000},
        f"{PARSING} Parsing dates, row 4",
    ),
    "date single-digit day": Case(
        'r %{date("EEE MMM d HH:mm:ss yyyy"):date}',
        "Tue Nov 1 08:29:03 2016",
        {"date": 1477988943000},
        f"{PARSING} Parsing dates, row 5 (the docs repeat row 4's result; this is 2016-11-01T08:29:03Z)",
    ),
    "date Z offset": Case(
        'r %{date("dd/MMM/yyyy:HH:mm:ss Z"):date}',
        "06/Mar/2013:01:36:30 +0900",
        {"date": 1362501390000},
        f"{PARSING} Parsing dates, row 6",
    ),
    "date SSSZ": Case(
        "r %{date(\"yyyy-MM-dd'T'HH:mm:ss.SSSZ\"):date}",
        "2016-11-29T16:21:36.431+0000",
        {"date": 1480436496431},
        f"{PARSING} Parsing dates, row 7",
    ),
    "date SSSZZ": Case(
        "r %{date(\"yyyy-MM-dd'T'HH:mm:ss.SSSZZ\"):date}",
        "2016-11-29T16:21:36.431+00:00",
        {"date": 1480436496431},
        f"{PARSING} Parsing dates, row 8",
    ),
    "date milliseconds": Case(
        'r %{date("dd/MMM/yyyy:HH:mm:ss.SSS"):date}',
        "06/Feb/2009:12:14:14.655",
        {"date": 1233922454655},
        f"{PARSING} Parsing dates, row 9",
    ),
    "date zone abbreviation": Case(
        'r %{date("yyyy-MM-dd HH:mm:ss.SSS z"):date}',
        "2007-08-31 19:22:22.427 ADT",
        {"date": 1188598942427},
        f"{PARSING} Parsing dates, row 10",
    ),
    "date TZ database zone": Case(
        'r %{date("EEE MMM dd HH:mm:ss yyyy","Europe/Paris"):date}',
        "Thu Jun 16 08:29:03 2016",
        {"date": 1466058543000},
        f"{PARSING} Parsing dates, row 11",
    ),
    "date UTC+5": Case(
        'r %{date("EEE MMM dd HH:mm:ss yyyy","UTC+5"):date}',
        "Thu Jun 16 08:29:03 2016",
        {"date": 1466047743000},
        f"{PARSING} Parsing dates, row 12",
    ),
    "date +3": Case(
        'r %{date("EEE MMM dd HH:mm:ss yyyy","+3"):date}',
        "Thu Jun 16 08:29:03 2016",
        {"date": 1466054943000},
        f"{PARSING} Parsing dates, row 13",
    ),
    "regex": Case(
        'MyParsingRule %{regex("[a-z]*"):user.firstname}_%{regex("[a-zA-Z0-9]*"):user.id} .*',
        "john_1a2b3c4 connected on 11/08/2017",
        {"user": {"firstname": "john", "id": "1a2b3c4"}},
        f"{PARSING} Regex",
    ),
    "glog: regex, date without year, number, notSpace, data": Case(
        'kube_scheduler %{regex("\\\\w"):level}%{date("MMdd HH:mm:ss.SSSSSS"):timestamp}\\s+'
        "%{number:logger.thread_id} %{notSpace:logger.name}:%{number:logger.lineno}\\] %{data:msg}",
        "W0424 11:47:41.605188       1 authorization.go:47] Authorization is disabled",
        {
            "level": "W",
            "timestamp": 1587728861605,
            "logger": {"thread_id": 1.0, "name": "authorization.go", "lineno": 47.0},
            "msg": "Authorization is disabled",
        },
        f"{PARSING} Glog format (the docs' year, 2020, is the log's year here)",
    ),
    "alternation, integer branch": Case(
        'MyParsingRule (%{integer:user.id}|%{word:user.firstname}) connected on %{date("MM/dd/yyyy"):connect_date}',
        "12345 connected on 11/08/2017",
        {"user": {"id": 12345}, "connect_date": 1510099200000},
        f"{PARSING} Alternating pattern",
    ),
    "alternation, word branch": Case(
        'MyParsingRule (%{integer:user.id}|%{word:user.firstname}) connected on %{date("MM/dd/yyyy"):connect_date}',
        "john connected on 11/08/2017",
        {"user": {"firstname": "john"}, "connect_date": 1510099200000},
        f"{PARSING} Alternating pattern",
    ),
    "optional attribute": Case(
        'MyParsingRule %{word:user.firstname} (%{integer:user.id} )?connected on %{date("MM/dd/yyyy"):connect_date}',
        "john 1234 connected on 11/08/2017",
        {"user": {"firstname": "john", "id": 1234}, "connect_date": 1510099200000},
        f"{PARSING} Optional attribute",
    ),
    "numberStr": Case("r %{numberStr:field}", "-1.2", {"field": "-1.2"}, f"{PARSING} Matchers; {VRL_GROK}"),
    "number": Case("r %{number:field}", "-1", {"field": -1.0}, f"{PARSING} Matchers; {VRL_GROK}"),
    "numberExt": Case("r %{numberExt:field}", ".1e+3", {"field": 100.0}, f"{PARSING} Matchers; {VRL_GROK}"),
    "numberExtStr": Case("r %{numberExtStr:field}", "-1234e+3", {"field": "-1234e+3"}, f"{PARSING} Matchers"),
    "integer": Case("r %{integer:field}", "-2", {"field": -2}, f"{PARSING} Matchers; {VRL_GROK}"),
    "integerStr": Case("r %{integerStr:field}", "42", {"field": "42"}, f"{PARSING} Matchers"),
    "integerExt": Case("r %{integerExt:field}", "-1e+2", {"field": -100}, f"{PARSING} Matchers; {VRL_GROK}"),
    "integerExt refuses a fraction": Case(
        "r %{integerExt:field}", "1234.1e+5", None, f"{PARSING} Matchers; {VRL_GROK}"
    ),
    "integerExtStr": Case("r %{integerExtStr:field}", "+2e3", {"field": "+2e3"}, f"{PARSING} Matchers"),
    "boolean ignores case": Case("r %{boolean:field}", "tRue", {"field": True}, f"{PARSING} Matchers; {VRL_GROK}"),
    "boolean with patterns": Case(
        'r %{boolean("ok", "no"):field}', "no", {"field": False}, f"{PARSING} Matchers; {VRL_GROK}"
    ),
    "boolean patterns keep case": Case('r %{boolean("ok", "no"):field}', "No", None, f"{PARSING} Matchers; {VRL_GROK}"),
    "doubleQuotedString keeps its quotes": Case(
        "r %{doubleQuotedString:field}", '"test  "', {"field": '"test  "'}, f"{PARSING} Matchers; {VRL_GROK}"
    ),
    "singleQuotedString": Case("r %{singleQuotedString:field}", "'a b'", {"field": "'a b'"}, f"{PARSING} Matchers"),
    "quotedString": Case(
        "r %{quotedString:a} %{quotedString:b}", "\"x\" 'y'", {"a": '"x"', "b": "'y'"}, f"{PARSING} Matchers"
    ),
    "word is bounded": Case("r %{word:a}-%{word:b}", "ab_1-cd", {"a": "ab_1", "b": "cd"}, f"{PARSING} Matchers"),
    "uuid": Case(
        "r %{uuid:id}",
        "0b6f7c1e-2d4a-4c8e-9f31-5a7d2e8b9c40",
        {"id": "0b6f7c1e-2d4a-4c8e-9f31-5a7d2e8b9c40"},
        f"{PARSING} Matchers",
    ),
    "mac": Case("r %{mac:m}", "00:1a:2B:3c:4d:5e", {"m": "00:1a:2B:3c:4d:5e"}, f"{PARSING} Matchers"),
    "ipv4": Case("r %{ipv4:ip}", "203.0.113.9", {"ip": "203.0.113.9"}, f"{PARSING} Matchers"),
    "ipv4 refuses 256": Case("r %{ipv4:ip}", "256.0.0.1", None, f"{PARSING} Matchers"),
    "ipv6": Case("r %{ipv6:ip}", "2001:db8::8a2e:370:7334", {"ip": "2001:db8::8a2e:370:7334"}, f"{PARSING} Matchers"),
    "ip takes both": Case("r %{ip:a} %{ip:b}", "::1 10.0.0.1", {"a": "::1", "b": "10.0.0.1"}, f"{PARSING} Matchers"),
    "hostname": Case(
        "r %{hostname:h}", "api.example-1.internal", {"h": "api.example-1.internal"}, f"{PARSING} Matchers"
    ),
    "ipOrHost": Case(
        "r %{ipOrHost:a} %{ipOrHost:b}", "10.1.2.3 db-1", {"a": "10.1.2.3", "b": "db-1"}, f"{PARSING} Matchers"
    ),
    "port": Case("r %{hostname:h}:%{port:p}", "db:5432", {"h": "db", "p": "5432"}, f"{PARSING} Matchers"),
    "port refuses 65536": Case("r %{notSpace:h}:%{port:p}", "db:65536", None, f"{PARSING} Matchers"),
    "data spans newlines": Case("r %{data:d}", "a\nb", {"d": "a\nb"}, f"{PARSING} Matchers (data)"),
    "notSpace stops at a space": Case(
        "r %{notSpace:a} %{data:b}", "x y z", {"a": "x", "b": "y z"}, f"{PARSING} Matchers"
    ),
}

FILTERS: dict[str, Case] = {
    "number": Case("r %{data:field:number}", "1.0", {"field": 1.0}, f"{PARSING} Filters; {VRL_GROK}"),
    "integer": Case("r %{data:field:integer}", "1", {"field": 1}, f"{PARSING} Filters; {VRL_GROK}"),
    "boolean": Case("r %{data:field:boolean}", "tRue", {"field": True}, f"{PARSING} Filters; {VRL_GROK}"),
    "nullIf drops the attribute": Case(
        'r %{data:field:nullIf("-")}', "-", {}, f"{PARSING} Filters, and Overview: null values are not displayed"
    ),
    "nullIf keeps other values": Case('r %{data:field:nullIf("-")}', "abc", {"field": "abc"}, f"{PARSING} Filters"),
    "json nested after a prefix": Case(
        'parsing_rule %{date("MMM dd HH:mm:ss"):timestamp} %{word:vm} %{word:app}\\[%{number:logger.thread_id}\\]: '
        "%{notSpace:server} %{data::json}",
        'Sep 06 09:13:38 vagrant program[123]: server.1 {"method":"GET", "status_code":200, '
        '"url":"https://app.datadoghq.com/logs/pipelines", "duration":123456}',
        {
            "timestamp": 1599383618000,
            "vm": "vagrant",
            "app": "program",
            "logger": {"thread_id": 123.0},
            "server": "server.1",
            "method": "GET",
            "status_code": 200,
            "url": "https://app.datadoghq.com/logs/pipelines",
            "duration": 123456,
        },
        f"{PARSING} Nested JSON",
    ),
    "json that does not parse is left out": Case(
        "r %{notSpace:a:integer} %{data:b:json}", "x not json", {}, f"{VRL_GROK} (ignores_field_if_filter_fails)"
    ),
    "rubyhash": Case(
        "r %{data:user:rubyhash}",
        '{name => "John", "job" => {"company" => "Big Company", "title" => "CTO"}}',
        {"user": {"name": "John", "job": {"company": "Big Company", "title": "CTO"}}},
        f"{PARSING} Filters (rubyhash)",
    ),
    "querystring": Case(
        "r %{data:q:querystring}",
        "?productId=superproduct&promotionCode=superpromo",
        {"q": {"productId": "superproduct", "promotionCode": "superpromo"}},
        f"{PARSING} Filters (querystring)",
    ),
    "decodeuricomponent": Case(
        "r %{data:p:decodeuricomponent}", "%2Fservice%2Ftest", {"p": "/service/test"}, f"{PARSING} Filters"
    ),
    "lowercase": Case("r %{data:f:lowercase}", "aBC", {"f": "abc"}, f"{PARSING} Filters; {VRL_GROK}"),
    "uppercase": Case("r %{data:f:uppercase}", "Abc", {"f": "ABC"}, f"{PARSING} Filters; {VRL_GROK}"),
    "scale an integer": Case("r %{integer:f:scale(10)}", "1", {"f": 10.0}, f"{PARSING} Filters; {VRL_GROK}"),
    "scale a number": Case("r %{number:f:scale(0.5)}", "10.0", {"f": 5.0}, f"{PARSING} Filters; {VRL_GROK}"),
    "keyvalue": Case(
        "rule %{data::keyvalue}",
        "user=john id=123 action=click",
        {"user": "john", "id": "123", "action": "click"},
        f"{PARSING} Key value or logfmt (the docs' log without its date, whose `/` is not a default value character)",
    ),
    "keyvalue into an attribute": Case(
        "rule %{data:my_attribute:keyvalue}",
        "user=john id=123",
        {"my_attribute": {"user": "john", "id": "123"}},
        f"{PARSING} Key value or logfmt",
    ),
    "keyvalue separator": Case(
        'rule %{data::keyvalue(": ")}',
        "user: john id: 123 action: click",
        {"user": "john", "id": "123", "action": "click"},
        f"{PARSING} Key value or logfmt",
    ),
    "keyvalue allow list": Case(
        'rule %{data::keyvalue("=","/:")}',
        "url=https://app.datadoghq.com/event/stream user=john",
        {"url": "https://app.datadoghq.com/event/stream", "user": "john"},
        f"{PARSING} Key value or logfmt",
    ),
    "keyvalue angle quotes": Case(
        "r %{data::keyvalue}", "key=<valueStr>", {"key": "valueStr"}, f"{PARSING} Key value, other examples"
    ),
    "keyvalue quoted key": Case(
        "r %{data::keyvalue}", '"key"="valueStr"', {"key": "valueStr"}, f"{PARSING} Key value, other examples"
    ),
    "keyvalue allowed char in key and value": Case(
        'r %{data::keyvalue(":", "/")}', "/key:/valueStr", {"/key": "/valueStr"}, f"{PARSING} Key value, other examples"
    ),
    "keyvalue quoting string": Case(
        'r %{data::keyvalue(":=", "", "{}")}',
        "key:={valueStr}",
        {"key": "valueStr"},
        f"{PARSING} Key value, other examples",
    ),
    "keyvalue delimiter": Case(
        'r %{data::keyvalue("=", "", "", "|")}',
        'key1="value1"|key2="value2"',
        {"key1": "value1", "key2": "value2"},
        f"{PARSING} Key value, other examples",
    ),
    "keyvalue multiple quoting strings": Case(
        'rule %{data::keyvalue(":=","","<>")}',
        'key1:=valueStr key2:=</valueStr2> key3:="valueStr3"',
        {"key1": "valueStr", "key2": "/valueStr2"},
        f"{PARSING} Key value, Multiple QuotingString example",
    ),
    "keyvalue drops empty and null": Case(
        "r %{data::keyvalue}", "key1= key2=null key3=value3", {"key3": "value3"}, f"{PARSING} Key value, Note"
    ),
    "keyvalue that does not match is empty": Case(
        'rule_test %{data::keyvalue("=")}', "key:=valueStr", {}, f"{PARSING} Key value, Note"
    ),
    "xml": Case(
        "rule %{data::xml}",
        '<book category="CHILDREN"><title lang="en">Harry Potter</title><author>J K. Rowling</author>'
        "<year>2005</year></book>",
        {
            "book": {
                "year": "2005",
                "author": "J K. Rowling",
                "category": "CHILDREN",
                "title": {"lang": "en", "value": "Harry Potter"},
            }
        },
        f"{PARSING} Parsing XML",
    ),
    "xml repeated tags": Case(
        "rule %{data::xml}",
        "<bookstore><book>Harry Potter</book><book>Everyday Italian</book></bookstore>",
        {"bookstore": {"book": ["Harry Potter", "Everyday Italian"]}},
        f"{PARSING} Parsing XML, Notes",
    ),
    "csv": Case(
        'myParsingRule %{data:user:csv("first_name,name,st_nb,st_name,city")}',
        "John,Doe,120,Jefferson St.,Riverside",
        {"user": {"first_name": "John", "name": "Doe", "st_nb": 120, "st_name": "Jefferson St.", "city": "Riverside"}},
        f"{PARSING} Parsing CSV",
    ),
    "csv doubled quotes": Case(
        'r %{data::csv("firstname,name")}',
        '"John ""Da Man""",Doe',
        {"firstname": 'John "Da Man"', "name": "Doe"},
        f"{PARSING} Parsing CSV, other examples",
    ),
    "csv quoting character": Case(
        'r %{data::csv("firstname,name",",","\'")}',
        "'John ''Da Man''',Doe",
        {"firstname": "John 'Da Man'", "name": "Doe"},
        f"{PARSING} Parsing CSV, other examples",
    ),
    "csv separator": Case(
        'r %{data::csv("firstname,name","|")}',
        "John|Doe",
        {"firstname": "John", "name": "Doe"},
        f"{PARSING} Parsing CSV",
    ),
    "csv more values than headers": Case(
        'r %{data::csv("key1,key2")}',
        "value1,value2,value3",
        {"key1": "value1", "key2": "value2"},
        f"{PARSING} Parsing CSV",
    ),
    "csv empty value": Case(
        'r %{data::csv("key1,key2,key3")}',
        "value1,,value3",
        {"key1": "value1", "key3": "value3"},
        f"{PARSING} Parsing CSV",
    ),
    "array": Case(
        'myParsingRule Users %{data:users:array("[]",",")} have been added to the database',
        "Users [John, Oliver, Marc, Tom] have been added to the database",
        {"users": ["John", "Oliver", "Marc", "Tom"]},
        f"{PARSING} List to array",
    ),
    "array braces and dash": Case(
        'myParsingRule Users %{data:users:array("{}","-")} have been added to the database',
        "Users {John-Oliver-Marc-Tom} have been added to the database",
        {"users": ["John", "Oliver", "Marc", "Tom"]},
        f"{PARSING} List to array",
    ),
    "array with a filter per element": Case(
        'r %{data:ids:array("[]", ",", integer)}', "[1, 2, 3]", {"ids": [1, 2, 3]}, f"{PARSING} Filters (array)"
    ),
    "url": Case(
        "r %{notSpace:http.url_details:url}",
        "https://api.example.com/v1/orders?user_id=12345&limit=20",
        {
            "http": {
                "url_details": {
                    "host": "api.example.com",
                    "path": "/v1/orders",
                    "port": 443,
                    "queryString": {"user_id": "12345", "limit": "20"},
                    "scheme": "https",
                }
            }
        },
        f"{PARSING} Filters (url); {URL_PARSER} Before and after",
    ),
    "useragent": Case(
        "r %{data:http.useragent_details:useragent}",
        CHICAGO_UA,
        {
            "http": {
                "useragent_details": {
                    "browser": {"family": "Chrome", "major": "118", "minor": "0", "patch": "5993", "patch_minor": "90"},
                    "device": {"brand": "Apple", "category": "Desktop", "family": "Mac", "model": "Mac"},
                    "os": {"family": "Mac OS X", "major": "10", "minor": "15", "patch": "7"},
                }
            }
        },
        f"{PARSING} Filters (useragent); {USER_AGENT_PARSER} Before and after",
    ),
    "same attribute twice becomes an array": Case(
        'simple %{integer:nested.field} %{notSpace:nested.field:uppercase} %{notSpace:nested.field:nullIf("-")}',
        "1 info x",
        {"nested": {"field": [1, "INFO", "x"]}},
        f"{VRL_GROK} (appends_to_the_same_field)",
    ),
}


@pytest.mark.parametrize("case", [*MATCHERS.values(), *FILTERS.values()], ids=[*MATCHERS, *FILTERS])
def test_documented_case(case: Case) -> None:
    """Each documented matcher and filter extracts what Datadog's documentation shows (source in the case)."""
    parsed = compile_grok(case.rule).parse(case.text, year=2020)
    if case.expected is None:
        assert parsed is None, case.source
    else:
        assert parsed is not None, case.source
        assert parsed[1] == case.expected, case.source


def test_every_matcher_and_filter_has_a_case() -> None:
    """The table covers each matcher and filter Datadog documents."""
    from logmon.emulator.grok.compiler import ARGUMENT_MATCHERS
    from logmon.emulator.grok.compiler import MATCHERS as BUILT_IN

    rules = " ".join(case.rule for case in [*MATCHERS.values(), *FILTERS.values()])
    for name in [*BUILT_IN, *ARGUMENT_MATCHERS]:
        assert f"%{{{name}" in rules, name
    for name in (
        "number",
        "integer",
        "boolean",
        "nullIf",
        "json",
        "rubyhash",
        "useragent",
        "querystring",
        "decodeuricomponent",
        "lowercase",
        "uppercase",
        "keyvalue",
        "xml",
        "csv",
        "scale",
        "array",
        "url",
    ):
        assert f":{name}" in rules, name


NGINX_SUPPORT = r"""_auth %{notSpace:http.auth:nullIf("-")}
_bytes_written %{integer:network.bytes_written}
_client_ip %{ipOrHost:network.client.ip}
_version HTTP\/(?<http.version>\d+\.\d+)
_url %{notSpace:http.url}
_ident %{notSpace:http.ident}
_user_agent %{regex("[^\\\"]*"):http.useragent}
_referer %{notSpace:http.referer}
_status_code %{integer:http.status_code}
_method %{word:http.method}
_date_access %{date("dd/MMM/yyyy:HH:mm:ss Z"):date_access}"""
NGINX_MATCH = (
    r"""access.common %{_client_ip} %{_ident} %{_auth} \[%{_date_access}\] "(?>%{_method} |)%{_url}"""
    r"""(?> %{_version}|)" %{_status_code} (?>%{_bytes_written}|-)"""
    "\n"
    r"""access.combined %{access.common} (%{number:duration:scale(1000000000)} )?"%{_referer}" "%{_user_agent}".*"""
)


class TestRules:
    def test_the_first_matching_rule_wins(self) -> None:
        """Rules are tried top to bottom; a rule referencing one above it extends it."""
        parser = compile_grok(NGINX_MATCH, NGINX_SUPPORT)
        common = '127.0.0.1 - frank [13/Jul/2016:10:55:36 +0000] "GET /apache_pb.gif HTTP/1.0" 200 2326'
        parsed = parser.parse(common)
        assert parsed is not None
        assert parsed[0] == "access.common"
        combined = f'{common} 0.202 "http://www.perdu.com/" "Mozilla/5.0 (X11; Linux x86_64)"'
        name, attributes = parser.parse(combined)  # type: ignore[misc]
        assert name == "access.combined"
        assert attributes["http"]["useragent"] == "Mozilla/5.0 (X11; Linux x86_64)"
        assert attributes["http"]["version"] == "1.0"
        assert attributes["duration"] == pytest.approx(202_000_000.0)
        assert attributes["date_access"] == 1468407336000

    def test_support_rules(self) -> None:
        """Helper rules factor tokens out of match rules ({PARSING} Using helper rules)."""
        parser = compile_grok(
            "MyParsingRule %{user} %{connection} %{server}",
            "user %{word:user.name} id:%{integer:user.id}\n"
            'connection connected on %{date("MM/dd/yyyy"):connect_date}\n'
            "server on server %{notSpace:server.name} in %{notSpace:server.env}",
        )
        _, attributes = parser.parse("john id:12345 connected on 11/08/2017 on server XYZ in production")  # type: ignore[misc]
        assert attributes == {
            "user": {"name": "john", "id": 12345},
            "connect_date": 1510099200000,
            "server": {"name": "XYZ", "env": "production"},
        }

    def test_the_whole_text_must_match(self) -> None:
        """Rules are anchored at both ends: a rule matching a prefix does not parse the text."""
        assert compile_grok("r %{word:a}").parse("one two") is None

    def test_a_date_without_a_year_takes_the_given_year(self) -> None:
        """`MMM dd` dates are read in the log's year."""
        parsed = compile_grok('r %{date("MMM dd HH:mm:ss"):d}').parse("Jan 05 00:00:00", year=2026)
        assert parsed is not None
        assert parsed[1] == {"d": 1767571200000}


class TestInvalidRules:
    @pytest.mark.parametrize(
        ("match", "support", "field", "fragment"),
        [
            ("r %{nosuch:x}", "", "match_rules", "unknown matcher or rule 'nosuch'"),
            ("r %{data:x:nosuch}", "", "match_rules", "unknown filter 'nosuch'"),
            ("r %{data:x:scale()}", "", "match_rules", "scale"),
            ("r %{regex(1):x}", "", "match_rules", "quote them"),
            ('r %{regex("[a-"):x}', "", "match_rules", "not a valid regular expression"),
            ('r %{date("qqq"):x}', "", "match_rules", "pattern letter 'q'"),
            ('r %{date("HH", "Mars/Olympus"):x}', "", "match_rules", "unknown time zone"),
            ('r %{date("HH", "+19"):x}', "", "match_rules", "beyond"),
            ("r (unclosed", "", "match_rules", "not a valid regular expression"),
            ("r %{word:x", "", "match_rules", "cannot read the token"),
            ("%{data}", "", "match_rules", "not valid"),
            ("onlyname", "", "match_rules", "has no pattern"),
            ("r a\nr b", "", "match_rules", "used twice"),
            ("r %{later}\nlater x", "", "match_rules", "unknown matcher or rule 'later'"),
            ("r %{loop}", "loop %{loop}", "support_rules", "refers back to itself"),
            ("r %{helper}", "helper %{word:x:nosuch}", "support_rules", "unknown filter"),
            ("", "", "match_rules", "no match rule"),
        ],
    )
    def test_reported_with_the_field_and_reason(self, match: str, support: str, field: str, fragment: str) -> None:
        """A rule that cannot be compiled names its field and says what is wrong."""
        with pytest.raises(GrokCompileError) as raised:
            compile_grok(match, support)
        assert raised.value.field == field
        assert fragment in raised.value.message

    def test_offset_points_at_the_token(self) -> None:
        """The error's offset is the token's position in the rules text, for file:line reports."""
        text = "ok %{word:a}\nbad %{word:a} %{nosuch:b}"
        with pytest.raises(GrokCompileError) as raised:
            compile_grok(text)
        assert text[raised.value.offset :].startswith("%{nosuch")

    @settings(max_examples=150, deadline=None)
    @given(st.text(alphabet=st.sampled_from(list("ab %{}:()\",.\\[]*+?|\n'-=rw0")), max_size=40))
    def test_any_text_compiles_or_is_refused(self, text: str) -> None:
        """Whatever is written, compiling either succeeds or raises GrokCompileError."""
        with contextlib.suppress(GrokCompileError):
            compile_grok(text)


PROCESSOR: TypeAdapter[model.Processor] = TypeAdapter(model.Processor)


class TestProcessor:
    def grok(self, **options: Any) -> Any:
        step = compile_processor(PROCESSOR.validate_python({"type": "grok_parser", **options}), compile_filter)
        assert step is not None
        return step

    def test_extracts_at_the_root(self) -> None:
        """Extracted attributes are merged into the log's attributes; the message stays."""
        log = record({"other": 1}, message="john connected")
        self.grok(match_rules="r %{word:usr.name} connected")(log)
        assert log.attributes == {"other": 1, "usr": {"name": "john"}}
        assert log.message == "john connected"

    def test_no_match_leaves_the_log_unchanged(self) -> None:
        """When no rule matches, the processor changes nothing (Datadog's parser marks no error attribute)."""
        log = record({"a": 1}, message="something else")
        self.grok(match_rules="r %{word:usr.name} connected")(log)
        assert log.attributes == {"a": 1}

    def test_source_attribute(self) -> None:
        """`source` parses another text attribute ({PARSING} Parsing a specific text attribute)."""
        log = record({"command": {"line": "a=1 b=2"}})
        self.grok(source="command.line", match_rules="r %{data::keyvalue}")(log)
        assert (log.attributes["a"], log.attributes["b"]) == ("1", "2")

    def test_non_text_source_is_skipped(self) -> None:
        """Datadog parses strings only: a number in the source attribute is left alone."""
        log = record({"n": 5})
        self.grok(source="n", match_rules="r %{data:x}")(log)
        assert log.attributes == {"n": 5}

    def test_objects_merge(self) -> None:
        """An extracted object merges into an existing one of the same name."""
        log = record({"http": {"method": "GET"}}, message="200")
        self.grok(match_rules="r %{integer:http.status_code}")(log)
        assert log.attributes == {"http": {"method": "GET", "status_code": 200}}
