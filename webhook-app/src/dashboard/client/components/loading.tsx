export function Loading(props: { what?: string }) {
  return (
    <p class="loading muted" role="status">
      Loading{props.what ? ` ${props.what}` : ''}…
    </p>
  );
}
