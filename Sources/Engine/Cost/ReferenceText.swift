/// English prose of the kind a support assistant reads and writes, for characters per token when no workload is
/// given (`slm cost`). Written for slm; plain ASCII so every tokenizer sees the same characters.
public enum ReferenceText {
    public static let english = """
        Thank you for contacting us about your order. I am sorry to hear that the package arrived late and that one \
        of the items was damaged in transit. I have checked your account, and the replacement has already been \
        shipped from our warehouse in Ohio; you should receive a tracking number by email within the next few hours. \
        If the new item does not arrive by Friday, please reply to this message and we will issue a full refund to \
        your original payment method. You do not need to return the damaged item.

        To reset your password, open the sign-in page and choose "Forgot password". Enter the email address you used \
        when you created the account, and we will send you a link that is valid for thirty minutes. For your \
        security, the link can only be used once. If you no longer have access to that email address, our team can \
        verify your identity with the last four digits of the card on file and the date of your most recent order.

        Our standard plan includes up to five users, two hundred gigabytes of storage, and email support with a \
        response within one business day. The business plan adds single sign-on, audit logs, priority support by \
        phone, and a monthly usage report. You can upgrade or downgrade at any time; changes take effect at the \
        start of the next billing cycle, and any unused time on the current plan is credited to your account.

        The device should be charged for at least two hours before first use. Press and hold the power button for \
        three seconds until the light turns green. If the light blinks red, the battery is too low to start: connect \
        the charger and wait fifteen minutes before trying again. Firmware updates are installed automatically over \
        Wi-Fi at night, and the device restarts once when an update is complete.
        """
}
