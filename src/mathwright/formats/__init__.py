"""Text formats (goat, caef, local view, reversed, gsm calculator, pot): each module has render / parse / check."""
