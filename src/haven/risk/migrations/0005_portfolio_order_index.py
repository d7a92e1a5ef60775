"""The portfolio's keyset order (is_current, next_review_on, case) replaces the review index
(is_current, next_review_on), whose columns it begins with."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("risk", "0004_reinstall_append_only_triggers")]

    operations = [
        migrations.RemoveIndex(model_name="riskassessment", name="risk_current_review_idx"),
        migrations.AddIndex(
            model_name="riskassessment",
            index=models.Index(
                fields=["is_current", "next_review_on", "case"], name="risk_current_order_idx"
            ),
        ),
    ]
