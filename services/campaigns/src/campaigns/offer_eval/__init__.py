"""The offer lists' evaluation: split the history at a date, predict the next 14 days for every
member, and compare with what they bought, side by side with two baselines (`python -m
campaigns.offer_eval --help`)."""
