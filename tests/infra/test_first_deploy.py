"""A first real `pulumi up` into an existing organization: the program as the engine runs it, adoption of what
every org has, explicit providers only, org-wide orders, indexes that are never deleted, IAM propagation and
Datadog's AWS account per site."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from infra.components.org_order import merged_order
from logmon.plan.adopt import AdoptionInvalid, import_document
from logmon.plan.diff import README_DELETE_INDEX, README_PROTECTED, diff, render_text
from logmon.plan.engine import ProgramLaunch, ProjectUnreadable, engine_environment, read_project, run_program
from logmon.plan.recorder import Organization, RecordedResource, record
from logmon.plan.runner import Plan, PlanFailed, plan_document, run_plan
from logmon.settings import DATADOG_AWS_ACCOUNTS, Adopt, StackSettings
from tests.projects import ROOT, STACKS, copy_project, planned

INDEX = "datadog:index/logsIndex:LogsIndex"
INDEX_ORDER = "datadog:index/logsIndexOrder:LogsIndexOrder"
ARCHIVE = "datadog:index/logsArchive:LogsArchive"
ARCHIVE_ORDER = "datadog:index/logsArchiveOrder:LogsArchiveOrder"
SLEEP = "time:index/sleep:Sleep"


def urns(plan: Plan) -> dict[str, str]:
    """Each recorded resource's URN, built from its parent chain as the engine builds it."""
    by_key = {resource.key: resource for resource in plan.resources}

    def qualified_type(resource: RecordedResource) -> str:
        if resource.parent is None:
            return resource.type
        return f"{qualified_type(by_key[resource.parent])}${resource.type}"

    return {
        key: f"urn:pulumi:{plan.stack}::{plan.project}::{qualified_type(resource)}::{resource.name}"
        for key, resource in by_key.items()
    }


def import_file_urns(document: dict[str, Any], stack: str, project: str) -> list[tuple[str, str, str | None]]:
    """(type, URN, provider URN) of each entry, resolving `parent` and `provider` by name within the file as
    `pulumi import --file` does (pkg/cmd/pulumi/operations/import.go, parseImportFile)."""
    entries = document["resources"]
    by_name = {entry["name"]: entry for entry in entries}
    assert len(by_name) == len(entries), "names in an import file must be unique"

    def qualified_type(entry: dict[str, Any]) -> str:
        parent = entry.get("parent")
        return entry["type"] if parent is None else f"{qualified_type(by_name[parent])}${entry['type']}"

    def urn(entry: dict[str, Any]) -> str:
        return f"urn:pulumi:{stack}::{project}::{qualified_type(entry)}::{entry['name']}"

    return [
        (entry["type"], urn(entry), urn(by_name[entry["provider"]]) if "provider" in entry else None)
        for entry in entries
    ]


class TestEngineLaunch:
    def test_a_directory_main_is_the_working_directory(self) -> None:
        """`main: infra/` makes `infra/` the working directory and `.` the program, as getPwdMain does."""
        launch = read_project(ROOT)
        assert (launch.project, launch.pwd, launch.entry) == ("logmon", ROOT / "infra", ".")
        assert launch.program == ROOT / "infra" / "__main__.py"

    def test_a_file_main_runs_from_its_directory(self, tmp_path: Path) -> None:
        """`main: app/run.py` runs `run.py` from `app/`."""
        (tmp_path / "app").mkdir()
        (tmp_path / "app" / "run.py").write_text("")
        (tmp_path / "Pulumi.yaml").write_text("name: toy\nruntime: python\nmain: app/run.py\n")
        assert read_project(tmp_path) == ProgramLaunch("toy", tmp_path.resolve(), tmp_path.resolve() / "app", "run.py")

    def test_a_missing_main_is_refused(self, tmp_path: Path) -> None:
        """A `main` that does not exist is refused as the engine refuses it."""
        (tmp_path / "Pulumi.yaml").write_text("name: toy\nruntime: python\nmain: nowhere/\n")
        with pytest.raises(ProjectUnreadable, match="project 'main' could not be read"):
            read_project(tmp_path)

    def test_the_program_gets_cwd_argv_and_config_as_from_the_language_host(self, tmp_path: Path) -> None:
        """The program runs in `main`'s directory with argv and config from PULUMI_CONFIG; all is restored after."""
        (tmp_path / "prog").mkdir()
        (tmp_path / "Pulumi.yaml").write_text("name: toy\nruntime: python\nmain: prog/\n")
        (tmp_path / "prog" / "__main__.py").write_text(
            "import json, os, sys\nimport pulumi\n"
            "seen = {'cwd': os.getcwd(), 'argv': sys.argv, 'x': pulumi.Config('toy').get('x'),\n"
            "        'secret': pulumi.runtime.is_config_secret('toy:y')}\n"
            "open('seen.json', 'w').write(json.dumps(seen))\n"
        )
        before = (Path.cwd(), os.environ.get("PULUMI_CONFIG"))
        launch = read_project(tmp_path)
        run_program(launch, engine_environment({"toy:x": "1", "toy:y": "2"}, frozenset({"toy:y"})))
        seen = json.loads((tmp_path / "prog" / "seen.json").read_text())
        assert seen == {"cwd": str(tmp_path.resolve() / "prog"), "argv": ["."], "x": "1", "secret": True}
        assert (Path.cwd(), os.environ.get("PULUMI_CONFIG")) == before


class TestProgramFromItsWorkingDirectory:
    @pytest.mark.parametrize("stack", STACKS)
    def test_every_resource_renders_from_infra(self, stack: str) -> None:
        """Started from `infra/` with config only in the environment, each stack renders its whole program."""
        plan = planned(stack)
        types = {resource.type for resource in plan.resources}
        assert {INDEX, "datadog:index/monitor:Monitor", "aws:s3/bucket:Bucket", "kubernetes:apps/v1:DaemonSet"} <= types

    def test_the_plan_does_not_depend_on_the_callers_directory(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Run from anywhere, the plan is the same document."""
        monkeypatch.chdir(tmp_path)
        assert plan_document(run_plan("dev", ROOT)) == plan_document(planned("dev"))

    def test_a_missing_rules_directory_fails_clearly(self, tmp_path: Path) -> None:
        """Without `rules/` the program stops naming the directory it looked for and the setting to change."""
        project = copy_project(tmp_path / "project")
        shutil.rmtree(project / "rules")
        with pytest.raises(PlanFailed) as failed:
            run_plan("prod", project)
        message = failed.value.messages[-1]
        assert f"no rules directory at {project.resolve() / 'rules'}" in message
        assert "logmon:settings.rules_dir" in message

    def test_rules_come_from_the_programs_project_not_the_cwd(self, tmp_path: Path) -> None:
        """A copy of the project with a changed rule plans that change, whatever the working directory."""
        project = copy_project(tmp_path / "project")
        monitors = project / "rules" / "monitors.yaml"
        monitors.write_text(monitors.read_text().replace("critical: 20\n", "critical: 30\n"))
        (monitor,) = [r for r in run_plan("prod", project).resources if r.name == "monitor-authentication_failures"]
        assert monitor.inputs["monitorThresholds"]["critical"] == "150"

    def test_lint_findings_name_files_from_the_project_root(self, tmp_path: Path) -> None:
        """A finding raised while running in `infra/` still reads `rules/monitors.yaml:line:col`."""
        project = copy_project(tmp_path / "project")
        monitors = project / "rules" / "monitors.yaml"
        monitors.write_text(monitors.read_text().replace('"@event_type:fraud_detection', '"event_type:fraud_detection'))
        with pytest.raises(PlanFailed) as failed:
            run_plan("prod", project)
        assert any(
            m.startswith("rules/monitors.yaml:") and "query/tag-vs-attribute" in m for m in failed.value.messages
        )


class TestAdoption:
    @pytest.mark.parametrize("stack", STACKS)
    def test_every_entry_matches_a_registered_resource(self, stack: str) -> None:
        """Each import entry has the type, URN (name under its parent) and provider the program registers."""
        plan = planned(stack)
        document = import_document(plan, Adopt())
        registered = urns(plan)
        by_urn = {urn: key for key, urn in registered.items()}
        for type_, urn, provider_urn in import_file_urns(document, stack, plan.project):
            assert urn in by_urn, f"{urn} is not registered by the program"
            resource = next(r for r in plan.resources if r.key == by_urn[urn])
            assert resource.type == type_
            if provider_urn is not None:
                assert resource.provider is not None
                assert registered[resource.provider] == provider_urn

    def test_main_is_adopted_by_its_name_under_the_logs_component(self) -> None:
        """`main` is imported by its name, under `logs`, through the explicit Datadog provider."""
        document = import_document(planned("prod"), Adopt())
        (main,) = [entry for entry in document["resources"] if "id" in entry]
        assert main == {
            "type": INDEX,
            "name": "index-main",
            "id": "main",
            "parent": "logs",
            "provider": "datadog",
        }
        provider = next(e for e in document["resources"] if e["name"] == "datadog")
        assert provider == {
            "type": "pulumi:providers:datadog",
            "name": "datadog",
            "inputs": {"apiUrl": "https://api.datadoghq.com/"},
        }
        assert "[secret]" not in json.dumps(document)

    def test_the_settings_adopt_section_adds_entries(self) -> None:
        """Indexes, monitors and archives listed under `adopt` are imported by their Datadog IDs."""
        adopt = Adopt.model_validate(
            {"indexes": ["security"], "monitors": {"payment_failures": 4242}, "archives": {"everything": "AbC"}}
        )
        document = import_document(planned("prod"), adopt)
        ids = {entry["name"]: entry["id"] for entry in document["resources"] if "id" in entry}
        assert ids == {
            "index-main": "main",
            "index-security": "security",
            "monitor-payment_failures": "4242",
            "archive-everything": "AbC",
        }
        archive = next(e for e in document["resources"] if e["name"] == "archive-everything")
        assert archive["parent"] == "archive"

    def test_an_adopt_entry_the_rules_lack_is_refused(self) -> None:
        """An `adopt` entry that names nothing in the rules is an error naming the setting and the fix."""
        with pytest.raises(AdoptionInvalid) as invalid:
            import_document(planned("prod"), Adopt.model_validate({"indexes": ["audit"]}))
        (problem,) = invalid.value.problems
        assert "logmon:settings.adopt.indexes" in problem
        assert "'audit'" in problem

    def test_the_command_writes_the_file(self, tmp_path: Path, run_logmon: Any) -> None:
        """`logmon adopt --stack prod --out F` writes the import file and says what to run next."""
        out = tmp_path / "import.json"
        code, stdout, _ = run_logmon(["adopt", "--stack", "prod", "--out", str(out), "--project", str(ROOT)])
        assert code == 0
        assert json.loads(out.read_text()) == import_document(planned("prod"), Adopt())
        assert "--generate-code=false" in stdout

    def test_the_command_refuses_a_bad_adopt_section(self, tmp_path: Path, run_logmon: Any) -> None:
        """A stack whose `adopt` names an unknown index exits 1 and writes nothing."""
        project = copy_project(tmp_path / "project")
        stack_file = project / "Pulumi.prod.yaml"
        document = yaml.safe_load(stack_file.read_text())
        document["config"]["logmon:settings"]["adopt"] = {"indexes": ["audit"]}
        stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
        out = tmp_path / "import.json"
        code, _, stderr = run_logmon(["adopt", "--stack", "prod", "--out", str(out), "--project", str(project)])
        assert code == 1
        assert "adopt.indexes" in stderr
        assert not out.exists()


class TestExplicitProvidersOnly:
    @pytest.mark.parametrize("stack", STACKS)
    def test_stack_files_turn_default_providers_off(self, stack: str) -> None:
        """Every stack sets `pulumi:disable-default-providers: ["*"]`, so the engine refuses a default provider."""
        document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
        assert document["config"]["pulumi:disable-default-providers"] == ["*"]

    @pytest.mark.parametrize("stack", STACKS)
    def test_no_resource_uses_a_default_provider(self, stack: str) -> None:
        """Every custom resource names one of the program's explicit providers."""
        plan = planned(stack)
        providers = {r.key for r in plan.resources if r.type.startswith("pulumi:providers:")}
        for resource in plan.resources:
            if resource.custom and not resource.type.startswith("pulumi:providers:"):
                assert resource.provider in providers, f"{resource.key} uses a default provider"

    @pytest.mark.parametrize("stack", STACKS)
    def test_no_invoke_uses_a_default_provider(self, stack: str) -> None:
        """Every data source the program reads goes through an explicit provider of the stack."""
        plan = planned(stack)
        assert plan.invokes
        for invoke in plan.invokes:
            assert invoke.provider is not None, f"{invoke.token} uses a default provider"
            assert invoke.provider.startswith(f"pulumi:providers:{invoke.token.split(':')[0]}::")

    @pytest.mark.parametrize("stack", STACKS)
    def test_the_agent_goes_to_the_stacks_cluster(self, stack: str) -> None:
        """Kubernetes resources use a provider pinned to the context in the stack's settings."""
        plan = planned(stack)
        (provider,) = [r for r in plan.resources if r.type == "pulumi:providers:kubernetes"]
        assert provider.inputs["context"] == f"payments-{stack}"
        kubernetes = [r for r in plan.resources if r.type.startswith("kubernetes:")]
        assert kubernetes
        assert {r.provider for r in kubernetes} == {provider.key}

    def test_a_stack_without_a_cluster_context_is_refused(self, tmp_path: Path) -> None:
        """Settings without `kubernetes.context` fail at the stack file, before anything is registered."""
        project = copy_project(tmp_path / "project")
        stack_file = project / "Pulumi.dev.yaml"
        document = yaml.safe_load(stack_file.read_text())
        del document["config"]["logmon:settings"]["kubernetes"]
        stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
        with pytest.raises(PlanFailed) as failed:
            run_plan("dev", project)
        assert "`logmon:settings.kubernetes`: missing required key" in failed.value.messages[0]


class TestOrganizationOrders:
    def test_index_order_keeps_an_unmanaged_index(self) -> None:
        """An index the stack does not manage keeps its place; ours follow the rules, `main` last of ours."""
        plan = run_plan("prod", ROOT, Organization(indexes=("audit-team", "main", "legacy")))
        (order,) = [r for r in plan.resources if r.type == INDEX_ORDER]
        assert order.inputs["indexes"] == ["audit-team", "security", "debug", "main", "legacy"]

    def test_archive_order_keeps_an_unmanaged_archive(self) -> None:
        """An archive the stack does not manage stays in the order; ours keep the catch-all last of ours."""
        plan = run_plan("prod", ROOT, Organization(archives=("other-team-archive",)))
        (order,) = [r for r in plan.resources if r.type == ARCHIVE_ORDER]
        ours = [f"<id:{r.name}>" for r in plan.resources if r.type == ARCHIVE]
        assert order.inputs["archiveIds"][0] == "other-team-archive"
        assert order.inputs["archiveIds"][1:] == ["<id:archive-security>", "<id:archive-everything>"]
        assert sorted(order.inputs["archiveIds"][1:]) == sorted(ours)

    def test_default_organization_has_only_main(self) -> None:
        """With nothing said about the org, it holds `main` only and the order is the rules' order."""
        (order,) = [r for r in planned("prod").resources if r.type == INDEX_ORDER]
        assert order.inputs["indexes"] == ["security", "debug", "main"]

    def test_the_plan_command_reads_an_organization_file(self, tmp_path: Path, run_logmon: Any) -> None:
        """`logmon plan --organization F` answers the data sources with F's indexes and archives."""
        organization = tmp_path / "org.yaml"
        organization.write_text("indexes: [main, legacy]\narchives: [x]\n")
        out = tmp_path / "plan.json"
        arguments = ["plan", "--stack", "dev", "--project", str(ROOT), "--organization", str(organization)]
        code, _, stderr = run_logmon([*arguments, "--json", str(out)])
        assert code == 0, stderr
        (order,) = [r for r in json.loads(out.read_text())["resources"] if r["type"] == INDEX_ORDER]
        assert order["inputs"]["indexes"] == ["security", "debug", "main", "legacy"]

    def test_a_bad_organization_file_is_a_usage_error(self, tmp_path: Path, run_logmon: Any) -> None:
        """An organization file that is not lists of names exits 2 with the expected shape."""
        organization = tmp_path / "org.yaml"
        organization.write_text("indexes: main\n")
        code, _, stderr = run_logmon(["plan", "--stack", "dev", "--organization", str(organization)])
        assert code == 2
        assert "expected a mapping with `indexes` and `archives`" in stderr


class TestMergedOrder:
    def test_ours_first_appear_after_everything_else(self) -> None:
        """None of ours exists yet: they go after the unmanaged items, whose precedence is unchanged."""
        assert merged_order(["a", "b"], ["x", "y"]) == ["a", "b", "x", "y"]

    def test_new_items_join_the_next_existing_one(self) -> None:
        """A new item of ours is placed just before the next of ours that exists."""
        assert merged_order(["debug", "team", "main"], ["security", "debug", "main"]) == [
            "security",
            "debug",
            "team",
            "main",
        ]

    @given(
        st.lists(st.sampled_from("abcdefgh"), unique=True),
        st.lists(st.sampled_from("defghijk"), unique=True, min_size=1),
    )
    def test_a_complete_order_that_moves_nothing_unmanaged(self, current: list[str], ours: list[str]) -> None:
        """The result lists every item once, ours in our order, unmanaged in their order and at their slots."""
        merged = merged_order(current, ours)
        assert sorted(merged) == sorted(set(current) | set(ours))
        assert [item for item in merged if item in ours] == ours
        unmanaged = [item for item in current if item not in ours]
        assert [item for item in merged if item not in ours] == unmanaged


class TestIndexesAreNeverDeleted:
    @pytest.mark.parametrize("stack", STACKS)
    def test_every_index_is_retained_on_delete(self, stack: str) -> None:
        """Each LogsIndex has `retain_on_delete`; prod's are protected as well."""
        indexes = [r for r in planned(stack).resources if r.type == INDEX]
        assert indexes
        assert all(index.retain_on_delete for index in indexes)
        assert all(index.protect for index in indexes) == (stack == "prod")

    def test_a_removed_index_is_retained_not_deleted(self) -> None:
        """Dropping an index from the rules shows as retained in Datadog, no longer managed."""
        base = plan_document(planned("staging"))
        head = json.loads(json.dumps(base))
        head["resources"] = [r for r in head["resources"] if r["name"] != "index-debug"]
        result = diff(base, head)
        (change,) = result.resources
        assert change.action == "retain"
        text = render_text(result)
        assert "⊘ datadog:index/logsIndex:LogsIndex::index-debug" in text
        assert "stays in Datadog, no longer managed (never deleted)" in text
        assert "DANGER" not in text

    def test_a_removed_protected_index_says_how_to_let_go(self) -> None:
        """In prod, Pulumi refuses while protected: the warning says so and points at the README."""
        base = plan_document(planned("prod"))
        head = json.loads(json.dumps(base))
        head["resources"] = [r for r in head["resources"] if r["name"] != "index-debug"]
        text = render_text(diff(base, head))
        assert "!! DANGER: protected resource `datadog:index/logsIndex:LogsIndex::index-debug` is no longer" in text
        assert "can never be used again" not in text

    def test_readme_has_the_sections_the_diff_names(self) -> None:
        """Every README section the diff's warnings point at exists."""
        headings = {
            line.lstrip("#").strip() for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("#")
        }
        assert {README_PROTECTED, README_DELETE_INDEX} <= headings


class TestIamPropagation:
    @pytest.mark.parametrize("stack", STACKS)
    def test_archives_wait_for_iam_to_propagate(self, stack: str) -> None:
        """A Sleep after the role policy and the AWS integration comes before every Datadog archive."""
        plan = planned(stack)
        (sleep,) = [r for r in plan.resources if r.type == SLEEP]
        assert sleep.inputs["createDuration"] == "60s"
        assert {
            "aws:iam/rolePolicy:RolePolicy::archive-archive-policy",
            "datadog:aws/integrationAccount:IntegrationAccount::archive-integration",
        } <= set(sleep.depends_on)
        for archive in (r for r in plan.resources if r.type == ARCHIVE):
            assert sleep.key in archive.depends_on


def settings_for(site: str, region: str) -> dict[str, Any]:
    return {
        "environment": "dev",
        "datadog_site": site,
        "aws_region": region,
        "aws_account_id": "123456789012",
        "cluster_name": "c",
        "kubernetes": {"context": "c"},
        "archive": {"bucket": "some-bucket"},
        "agent": {"image": "gcr.io/datadoghq/agent:7.81.1"},
    }


class TestDatadogAccountPerSite:
    @pytest.mark.parametrize(
        ("site", "region", "account"),
        [
            ("datadoghq.com", "us-east-1", "464622532012"),
            ("us3.datadoghq.com", "us-east-1", "464622532012"),
            ("us5.datadoghq.com", "us-east-1", "464622532012"),
            ("datadoghq.eu", "eu-west-1", "464622532012"),
            ("ap1.datadoghq.com", "ap-northeast-1", "417141415827"),
            ("ap2.datadoghq.com", "ap-southeast-2", "412381753143"),
            ("uk1.datadoghq.com", "eu-west-2", "117348461845"),
            ("ddog-gov.com", "us-east-1", "392588925713"),
            ("ddog-gov.com", "us-gov-west-1", "065115117704"),
        ],
    )
    def test_trusted_account_follows_datadogs_templates(self, site: str, region: str, account: str) -> None:
        """The archive role trusts the account Datadog's CloudFormation template names for the site and partition."""
        assert StackSettings.model_validate(settings_for(site, region)).datadog_aws_account == account

    def test_every_accepted_site_has_an_account(self) -> None:
        """No site the settings accept lacks Datadog's commercial-partition account."""
        assert all("aws" in accounts for accounts in DATADOG_AWS_ACCOUNTS.values())

    @pytest.mark.parametrize(("site", "region"), [("datadoghq.com", "us-gov-west-1"), ("datadoghq.com", "cn-north-1")])
    def test_a_site_without_an_account_in_the_partition_is_refused(self, site: str, region: str) -> None:
        """A commercial site cannot assume a GovCloud or China role: refused with the reason."""
        with pytest.raises(ValueError, match="has no AWS account in the aws-"):
            StackSettings.model_validate(settings_for(site, region))

    def test_an_unknown_site_is_refused(self) -> None:
        """A site Datadog does not run is not accepted."""
        with pytest.raises(ValueError, match="datadog_site"):
            StackSettings.model_validate(settings_for("datad0g.com", "us-east-1"))


class TestRecorderOnly:
    def test_record_without_config_leaves_it_to_the_program(self) -> None:
        """`record` without config hands the program an empty config, which the program may then set itself."""
        seen: list[Any] = []

        def program() -> None:
            import pulumi

            seen.append(pulumi.Config("toy").get("x"))

        record(program, project="toy", stack="dev")
        assert seen == [None]
