"""Forms for what visitors send: a coupon code and answers to price."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from . import services
from .domain import Question
from .exceptions import InvalidQuery

QUESTION_PREFIX = "question_"


def validate_redeemable_code(value: str) -> None:
    try:
        services.clean_redeemable_code(value)
    except InvalidQuery:
        raise forms.ValidationError(
            _("Enter a code of letters, digits, '-', '_' or '.'."),
            code="invalid_code",
        ) from None


class PriceQuoteForm(forms.Form):
    """The product's questions (one field each) and an optional coupon code.

    Questions with options become choices, starting at the merchant's
    default; the others take free text.
    """

    coupon_code = forms.CharField(
        label=_("Coupon or gift card code"),
        required=False,
        max_length=64,
        validators=[validate_redeemable_code],
    )

    def __init__(
        self, *args: Any, questions: Sequence[Question] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[QUESTION_PREFIX + question.id] = self._question_field(question)
        self.order_fields([*(QUESTION_PREFIX + q.id for q in self.questions)])

    @staticmethod
    def _question_field(question: Question) -> forms.Field:
        if question.has_options:
            default = question.default_option or question.options[0]
            return forms.ChoiceField(
                label=question.title,
                choices=[(option.id, option.title) for option in question.options],
                initial=default.id,
            )
        textarea = question.field_type and question.field_type.form_control in (
            "text_area",
            "textarea",
        )
        return forms.CharField(
            label=question.title,
            required=False,
            max_length=services.MAX_ANSWER_LENGTH,
            widget=forms.Textarea(attrs={"rows": 3}) if textarea else None,
        )

    @property
    def answers(self) -> dict[str, str]:
        """Question ids to the answers given (blank text answers left out)."""
        return {
            question.id: value
            for question in self.questions
            if (value := self.cleaned_data.get(QUESTION_PREFIX + question.id))
        }
