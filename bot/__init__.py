"""billing-bot: ask MK.IO and Contro billing questions from Slack, make billing changes safely."""
