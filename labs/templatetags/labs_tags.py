"""``{% urine_drug_screens patient %}``: the latest urine drug screens for whoever reads lab
results (the doctor at the dispensary page); nothing for the others. One query."""

from django import template

from labs import selectors

register = template.Library()


@register.inclusion_tag("labs/_drug_screens.html", takes_context=True)
def urine_drug_screens(context, patient):
    request = context["request"]
    return {"screens": selectors.drug_screens_for_user(request.user, patient),
            "patient": patient}
