"""Commands of this group are registered on `bouncetool.cli.app.app` here."""
