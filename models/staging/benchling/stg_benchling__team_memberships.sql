with source as (
    select * from {{ source('benchling', 'team_memberships') }}
),

renamed as (
    select
        team_id,
        user__id as member_id,
        role,
        _synced_at
    from source
)

select * from renamed
