"""The monitor's screens: main, detail, help, and the submit / fault / confirm dialogs."""
