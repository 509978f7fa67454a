"""The workbench's screens: `main` composes the panels; dialogs live with the widgets."""
