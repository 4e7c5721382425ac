"""Running the real Pulumi program offline, under Pulumi's mock runtime, and recording what it registers."""
