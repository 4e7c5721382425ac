"""Pulumi ComponentResources, one per concern: the Datadog log configuration, the archive, the agent.

Import each component from its own module (`infra.components.agent`, ...); this package imports nothing so
that loading one component never pulls in the providers of the others.
"""
