"""What a reader sees: the terminal table and the charts, drawn from a results folder."""
