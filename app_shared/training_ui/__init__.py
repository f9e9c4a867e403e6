"""The training UI that the Train page and the 2-D playground share: set-up form, job controls, live panel, charts."""
