"""Storefront forms: checkout details, the cart-line quantity, and customer sign-up."""
from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

COUNTRIES = [
    ("US", "United States"), ("CA", "Canada"), ("GB", "United Kingdom"), ("DE", "Germany"),
    ("FR", "France"), ("NL", "Netherlands"), ("AU", "Australia"),
]


class CheckoutForm(forms.Form):
    """Who the order is for and where it goes (field names match Order's)."""

    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    first_name = forms.CharField(max_length=80, widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    last_name = forms.CharField(max_length=80, widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    phone = forms.CharField(
        max_length=40, required=False, widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"})
    )
    address = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "street-address"}))
    city = forms.CharField(max_length=80, widget=forms.TextInput(attrs={"autocomplete": "address-level2"}))
    postcode = forms.CharField(max_length=20, widget=forms.TextInput(attrs={"autocomplete": "postal-code"}))
    country = forms.ChoiceField(choices=COUNTRIES, initial="US")

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and sum(ch.isdigit() for ch in phone) < 6:
            raise forms.ValidationError("Enter a phone number with at least 6 digits, or leave it empty.")
        return phone


class EmailLoginForm(AuthenticationForm):
    """Django's login form, labelled for customers who sign in with their email address."""

    username = forms.CharField(label="Email", widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "email"}))


class SignupForm(UserCreationForm):
    """A customer account: email (also the username), first and last name, password."""

    email = forms.EmailField()
    first_name = forms.CharField(max_length=80)
    last_name = forms.CharField(max_length=80)

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("email", "first_name", "last_name")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        model = get_user_model()
        if model.objects.filter(username__iexact=email).exists() or model.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email already exists; log in instead.")
        return email

    def save(self, commit: bool = True):  # type: ignore[no-untyped-def]
        user = super().save(commit=False)
        user.username = self.cleaned_data["email"]
        user.email = self.cleaned_data["email"]
        if commit:
            user.save()
        return user
