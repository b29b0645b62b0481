"""How the timeline tests make dispensations and social actions (apps built alongside)."""


def factory_kwargs(name, patient, day):
    return {"patient": patient}
