"""The Pulumi program: stack settings, the rules, and one component per concern."""
