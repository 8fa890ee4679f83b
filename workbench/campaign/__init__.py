"""Campaign design: specification, contact policy, control group, power, channel plan, lists."""
