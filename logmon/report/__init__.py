"""Reports people look at: replay and rule test results as charts (HTML pages, Mermaid for pull requests)."""
