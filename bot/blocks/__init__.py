"""Pure Block Kit builders: data in, `slack_sdk.models` views and blocks out. No I/O, no Slack client."""
