"""What erasure leaves of a customer's name, as members keeps it and the console shows it.

Members replaces an erased customer's name with this placeholder (docs/members.md, **Erasure**), so
every record that names them still names someone; the console words it in the person's language
where it shows a customer's name (`gateway.api.console.render.customer_name`)."""

ERASED_NAME = "已注销用户"
